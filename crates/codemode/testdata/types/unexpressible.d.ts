declare namespace odd {
  type OddSchemasInput = {
    not_string?: unknown;
    conditional?: unknown;
    external?: unknown;
    anchor?: unknown;
    dynamic?: unknown;
    future_type?: unknown;
    mixed?: unknown;
    any_true?: unknown;
    never_false?: never;
    empty?: unknown;
    many?: string | number | boolean | null | unknown[] | { [key: string]: unknown };
    big?: 18446744073709551615 | -1.5 | 1e+300 | 0;
    literal_object?: { a: [1, { "b c": null }]; "": true };
  };
  /** What TypeScript cannot say becomes unknown. */
  function odd_schemas(input?: OddSchemasInput): Promise<unknown>;

  type NoInputSchemaInput = { [key: string]: unknown };
  /** An upstream that sends no inputSchema at all. */
  function no_input_schema(input?: NoInputSchemaInput): Promise<unknown>;

  type BooleanSchemaInput = unknown;
  function boolean_schema(input?: BooleanSchemaInput): Promise<unknown>;

  /** A bare string input */
  type NotAnObjectInput = string;
  /** MCP wants object inputs; render whatever comes. */
  function not_an_object(input: NotAnObjectInput): Promise<unknown>;
}
