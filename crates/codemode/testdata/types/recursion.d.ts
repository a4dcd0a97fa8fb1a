declare namespace graph {
  type TreeNode = {
    value: string;
    children?: TreeNode[];
    parent?: TreeNode | null;
  };
  type TreeInput = { root: TreeNode };
  /** A recursive definition is a recursive type. */
  function tree(input: TreeInput): Promise<unknown>;

  type A = { b?: B };
  type B = { a?: A };
  type MutualInput = { a?: A };
  /** Mutually recursive definitions. */
  function mutual(input?: MutualInput): Promise<unknown>;

  type X = Y | number;
  type Y = unknown;
  type AliasLoopInput = { x?: X };
  /** Definitions that are only aliases of each other: the reference closing the loop is unknown. */
  function alias_loop(input?: AliasLoopInput): Promise<unknown>;

  type Same = SelfRootInput;
  type SelfRootInput = { name?: string; next?: SelfRootInput; same?: Same };
  /** A reference to the whole schema (#) is the input type. */
  function self_root(input?: SelfRootInput): Promise<unknown>;

  type InlinePointerInput = {
    first?: { again?: { again?: unknown } };
    copy?: { again?: unknown };
  };
  /** References to parts other than definitions are inlined; a loop ends in unknown. */
  function inline_pointer(input?: InlinePointerInput): Promise<unknown>;
}
