declare namespace objects {
  type ConfigureInput = {
    server: {
      /**
       * Host name
       * @format hostname
       */
      host: string;
      /** @default 443 */
      port?: number;
      tls?: {
        /** @default true */
        verify?: boolean;
        /**
         * Use caBundle instead
         * @deprecated
         */
        ca?: string;
      };
    };
    labels?: { [key: string]: string };
    env?: { PATH?: string } & { [key: string]: string };
    extra?: { note?: string; [key: string]: unknown };
    closed?: {};
    anything?: { [key: string]: unknown };
    headers?: { [key: string]: string };
    "content-type": string;
    "2nd"?: number;
    "with space"?: boolean;
    $meta?: unknown;
    delete?: boolean;
    mustHave: unknown;
  };
  /**
   * Nested objects, required and optional, additionalProperties and odd property names.
   * @param input.server - Where to connect
   * @param input.$meta - Any JSON value
   * @param input.delete - Keywords are fine as property names
   */
  function configure(input: ConfigureInput): Promise<unknown>;

  type NoArgsInput = {};
  /** Takes nothing. */
  function no_args(input?: NoArgsInput): Promise<unknown>;

  type FreeFormInput = { [key: string]: unknown };
  /** Takes any object. */
  function free_form(input?: FreeFormInput): Promise<unknown>;
}
