declare namespace petstore {
  type Pet = { name: string; tags?: string[] | null };
  type Owner = { name?: string } | null;
  type UpdatePetInput = {
    /** @format int64 */
    petId: number;
    body: Pet;
    note?: string | null;
    status?: "available" | "pending" | "sold" | null;
    owner?: Owner | null;
  };
  /** Update an existing pet (OpenAPI 3.0 style: nullable and components). */
  function updatePet(input: UpdatePetInput): Promise<unknown>;
}
