declare namespace shapes {
  type AreaInput = {
    shape: { kind: "circle"; radius: number } | { kind: "rect"; width: number; height: number };
    unit?: "cm" | "in" | null;
    precision?: number | string;
  };
  /** Area of a shape (oneOf, a discriminated union). */
  function area(input: AreaInput): Promise<unknown>;

  type Base = {
    /** The id */
    id: string;
  };
  type MergeInput = Base & {
    /** An extra flag */
    extra?: boolean;
  };
  /**
   * allOf: every part applies.
   * @param input.id - The id
   * @param input.extra - An extra flag
   */
  function merge(input: MergeInput): Promise<unknown>;

  type SearchInput = { query?: string; ids?: string[] };
  /** Either query or ids must be given (anyOf of requirements alone says nothing about types). */
  function search(input: SearchInput): Promise<unknown>;

  type Mode = "fast" | "safe";
  type WrappedInput = { mode: Mode };
  /**
   * A single-member allOf around a $ref, as pydantic writes fields with descriptions.
   * @param input.mode - How to run
   */
  function wrapped(input: WrappedInput): Promise<unknown>;
}
