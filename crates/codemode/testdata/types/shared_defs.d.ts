declare namespace crm {
  type Address = { street?: string; country?: Country };
  type Country = "DE" | "FR" | "US";
  type CreateContactInput = { name: string; address?: Address };
  /** Two tools with the same Address definition share one type. */
  function create_contact(input: CreateContactInput): Promise<unknown>;

  type UpdateContactInput = { id: string; address?: Address };
  function update_contact(input: UpdateContactInput): Promise<unknown>;

  type Address2 = { line?: string };
  type CreateCompanyInput = { hq?: Address2 };
  /** A different Address definition gets another name. */
  function create_company(input?: CreateCompanyInput): Promise<unknown>;

  type AddressInput2 = string;
  type Promise2 = boolean;
  type AddressInput = { q: AddressInput2 } & { [key: string]: Promise2 };
  /** A tool whose own type names are taken first: AddressInput stays AddressInput. */
  function address(input: AddressInput): Promise<unknown>;
}
