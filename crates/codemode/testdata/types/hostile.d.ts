declare namespace hostile {
  /** A def *\/ with a hostile name */
  type EvilDef = string;
  /** Root *\/ description */
  type DeclareConstPwnedTrueInput = {
    /**
     * @format *\/ uri
     * @default "*\/"
     */
    "\"; declare const pwned: true; \""?: string;
    "`${x}`": "*/" | "\"" | "`${y}`" | "<\/script>" | "line\nbreak" | "\u2028" | "\\";
    "key\n*/"?: "}; declare const pwned: true; type X = {";
    nested?: { "*/"?: EvilDef };
  };
  type DeclareConstPwnedTrueOutput = { "<\/script>"?: string };
  /**
   * Innocent.*\/ declare const pwned: true; /**
   * `${process.env.SECRET}` "quoted" 'single'
   * <\/script><script>alert(1)<\/script>
   * *\/}};  [31m�gnirts
   * @param input["\"; declare const pwned: true; \""] - *\/ property /*
   * @returns Returns *\/ things
   * @returns fake
   */
  function ___declare_const_pwned__true____(input: DeclareConstPwnedTrueInput): Promise<DeclareConstPwnedTrueOutput>;

  type $GlobalThisPwned1Input = { [key: string]: unknown };
  /** backticks `` and ${template} */
  function _$_globalThis_pwned___1__(input?: $GlobalThisPwned1Input): Promise<unknown>;

  type QuotedInput = { [key: string]: unknown };
  /** """ triple quotes """ */
  function _quoted_(input?: QuotedInput): Promise<unknown>;

  type NewLineInput = { [key: string]: unknown };
  /**
   *   leading blank lines
   *
   *
   * and gaps
   */
  function new_line(input?: NewLineInput): Promise<unknown>;

  type ScriptInput = { [key: string]: unknown };
  /** <!-- html --> <\/SCRIPT > */
  function __script_(input?: ScriptInput): Promise<unknown>;

  type NameDeclareConstX1DeclareNamespaceYInput = { a?: unknown };
  /** @param input.a - /* nested /* comment *\/ *\/ */
  function name___declare_const_x__1__declare_namespace_y__(input?: NameDeclareConstX1DeclareNamespaceYInput): Promise<unknown>;
}
