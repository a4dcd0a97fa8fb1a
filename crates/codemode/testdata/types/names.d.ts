declare namespace names {
  type GetUserInput = { [key: string]: unknown };
  function get_user(input?: GetUserInput): Promise<unknown>;

  type _2faInput = { [key: string]: unknown };
  function _2fa(input?: _2faInput): Promise<unknown>;

  type DeleteInput = { [key: string]: unknown };
  function delete_(input?: DeleteInput): Promise<unknown>;

  type ABCInput = { [key: string]: unknown };
  function a_b_c(input?: ABCInput): Promise<unknown>;

  type _Input = { [key: string]: unknown };
  function _(input?: _Input): Promise<unknown>;

  type RSumInput = { [key: string]: unknown };
  function r_sum_(input?: RSumInput): Promise<unknown>;

  type _Input2 = { [key: string]: unknown };
  function __(input?: _Input2): Promise<unknown>;

  type FetchInput = { [key: string]: unknown };
  function fetch(input?: FetchInput): Promise<unknown>;

  type TypeInput = { [key: string]: unknown };
  function type(input?: TypeInput): Promise<unknown>;

  type StringInput = { [key: string]: unknown };
  function string(input?: StringInput): Promise<unknown>;

  type AnyInput = { [key: string]: unknown };
  function any(input?: AnyInput): Promise<unknown>;

  type NaNInput = { [key: string]: unknown };
  function NaN(input?: NaNInput): Promise<unknown>;

  type ConstructorInput = { [key: string]: unknown };
  function constructor(input?: ConstructorInput): Promise<unknown>;

  type ProtoInput = { [key: string]: unknown };
  function __proto___(input?: ProtoInput): Promise<unknown>;

  type $Input = { [key: string]: unknown };
  function $(input?: $Input): Promise<unknown>;

  type GetUserInput2 = { [key: string]: unknown };
  function getUser(input?: GetUserInput2): Promise<unknown>;

  type PromiseInput = { [key: string]: unknown };
  function Promise(input?: PromiseInput): Promise<unknown>;

  type AwaitInput = { [key: string]: unknown };
  function await_(input?: AwaitInput): Promise<unknown>;

  type NamespaceToolV2Input = { [key: string]: unknown };
  function namespace_tool_v2(input?: NamespaceToolV2Input): Promise<unknown>;
}
