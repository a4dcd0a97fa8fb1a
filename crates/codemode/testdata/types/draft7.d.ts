declare namespace draft7 {
  /** A customer */
  type Customer = {
    id: number;
    /** @format email */
    email?: string;
  };
  type LineItem = {
    sku: string;
    /** @default 1 */
    quantity?: number;
  };
  type CreateOrderInput = {
    customer: Customer;
    items: LineItem[];
    /** @default "normal" */
    priority?: "low" | "normal" | "high";
    coupon?: string | null;
    kind?: "order";
    position?: [number, number, number?];
    tags?: [string, ...number[]];
  };
  /**
   * Creates an order (draft-07 schema with definitions).
   * @param input.customer - Who orders
   * @param input.coupon - Coupon code, or null
   * @param input.position - Latitude and longitude, optionally altitude
   */
  function create_order(input: CreateOrderInput): Promise<unknown>;
}
