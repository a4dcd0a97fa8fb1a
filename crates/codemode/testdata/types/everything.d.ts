declare namespace everything {
  type EchoInput = { message: string };
  /**
   * Echoes back the input string
   * @param input.message - Message to echo
   */
  function echo(input: EchoInput): Promise<unknown>;

  type GetAnnotatedMessageInput = {
    messageType: "error" | "success" | "debug";
    /** @default false */
    includeImage?: boolean;
  };
  /**
   * Demonstrates how annotations can be used to provide metadata about content.
   * @param input.messageType - Type of message to demonstrate different annotation patterns
   * @param input.includeImage - Whether to include an example image
   */
  function get_annotated_message(input: GetAnnotatedMessageInput): Promise<unknown>;

  type GetEnvInput = {};
  /** Returns all environment variables, helpful for debugging MCP server configuration */
  function get_env(input?: GetEnvInput): Promise<unknown>;

  type GetResourceLinksInput = {
    /** @default 3 */
    count?: number;
  };
  /**
   * Returns up to ten resource links that reference different types of resources
   * @param input.count - Number of resource links to return (1-10)
   */
  function get_resource_links(input?: GetResourceLinksInput): Promise<unknown>;

  type GetResourceReferenceInput = {
    /** @default "Text" */
    resourceType?: "Text" | "Blob";
    /** @default 1 */
    resourceId?: number;
  };
  /**
   * Returns a resource reference that can be used by MCP clients
   * @param input.resourceId - ID of the text resource to fetch
   */
  function get_resource_reference(input?: GetResourceReferenceInput): Promise<unknown>;

  type GetStructuredContentInput = { location: "New York" | "Chicago" | "Los Angeles" };
  type GetStructuredContentOutput = {
    /** Temperature in celsius */
    temperature: number;
    /** Weather conditions description */
    conditions: string;
    /** Humidity percentage */
    humidity: number;
  };
  /**
   * Returns structured content along with an output schema for client data validation
   * @param input.location - Choose city
   */
  function get_structured_content(input: GetStructuredContentInput): Promise<GetStructuredContentOutput>;

  type GetSumInput = { a: number; b: number };
  /**
   * Returns the sum of two numbers
   * @param input.a - First number
   * @param input.b - Second number
   */
  function get_sum(input: GetSumInput): Promise<unknown>;

  type GetTinyImageInput = {};
  /** Returns a tiny MCP logo image. */
  function get_tiny_image(input?: GetTinyImageInput): Promise<unknown>;

  type GzipFileAsResourceInput = {
    /** @default "README.md.gz" */
    name?: string;
    /** @format uri */
    data?: string;
    /** @default "resourceLink" */
    outputType?: "resourceLink" | "resource";
  };
  /**
   * Compresses a single file using gzip compression. Depending upon the selected output type, returns either the compressed data as a gzipped resource or a resource link, allowing it to be downloaded in a subsequent request during the current session.
   * @param input.name - Name of the output file
   * @param input.data - URL or data URI of the file content to compress
   * @param input.outputType - How the resulting gzipped file should be returned. 'resourceLink' returns a link to a resource that can be read later, 'resource' returns a full resource object.
   */
  function gzip_file_as_resource(input?: GzipFileAsResourceInput): Promise<unknown>;

  type ToggleSimulatedLoggingInput = {};
  /** Toggles simulated, random-leveled logging on or off. */
  function toggle_simulated_logging(input?: ToggleSimulatedLoggingInput): Promise<unknown>;

  type ToggleSubscriberUpdatesInput = {};
  /** Toggles simulated resource subscription updates on or off. */
  function toggle_subscriber_updates(input?: ToggleSubscriberUpdatesInput): Promise<unknown>;

  type TriggerLongRunningOperationInput = {
    /** @default 10 */
    duration?: number;
    /** @default 5 */
    steps?: number;
  };
  /**
   * Demonstrates a long running operation with progress updates.
   * @param input.duration - Duration of the operation in seconds
   * @param input.steps - Number of steps in the operation
   */
  function trigger_long_running_operation(input?: TriggerLongRunningOperationInput): Promise<unknown>;

  type GetRootsListInput = {};
  /** Lists the current MCP roots provided by the client. Demonstrates the roots protocol capability even though this server doesn't access files. */
  function get_roots_list(input?: GetRootsListInput): Promise<unknown>;

  type TriggerElicitationRequestInput = {};
  /** Trigger a Request from the Server for User Elicitation */
  function trigger_elicitation_request(input?: TriggerElicitationRequestInput): Promise<unknown>;

  type TriggerUrlElicitationInput = {
    /** @format uri */
    url: string;
    /** @default "Please open the link to complete this action." */
    message?: string;
    elicitationId?: string;
    /** @default false */
    errorPath?: boolean;
  };
  /**
   * Trigger a URL elicitation so the client can direct the user to a browser flow. Supports two mechanisms: the request path (elicitation/create, default) which awaits the user's response, and the error path (UrlElicitationRequiredError, -32042) which signals the client to handle URL elicitation via the error response. Set errorPath=true to use the error path.
   * @param input.url - The URL the user should open
   * @param input.message - Message shown to the user before opening the URL
   * @param input.elicitationId - Optional explicit elicitation ID. Defaults to a random UUID.
   * @param input.errorPath - Controls which elicitation mechanism is used. When false (default), sends an elicitation/create request (request path). When true, throws a UrlElicitationRequiredError (MCP error code -32042) so the client handles the URL elicitation via the error path rather than waiting for a response. To clear the error, satisfy the prerequisite and retry this call with the same arguments; the retry ignores errorPath and proceeds, so the client does not loop on the same error.
   */
  function trigger_url_elicitation(input: TriggerUrlElicitationInput): Promise<unknown>;

  type TriggerSamplingRequestInput = {
    prompt: string;
    /** @default 100 */
    maxTokens?: number;
  };
  /**
   * Trigger a Request from the Server for LLM Sampling
   * @param input.prompt - The prompt to send to the LLM
   * @param input.maxTokens - Maximum number of tokens to generate
   */
  function trigger_sampling_request(input: TriggerSamplingRequestInput): Promise<unknown>;

  type SimulateResearchQueryInput = {
    topic: string;
    /** @default false */
    ambiguous?: boolean;
  };
  /**
   * Simulates a deep research operation that gathers, analyzes, and synthesizes information. Demonstrates MCP task-based operations with progress through multiple stages. If 'ambiguous' is true and client supports elicitation, sends an elicitation request for clarification.
   * @param input.topic - The research topic to investigate
   * @param input.ambiguous - Simulate an ambiguous query that requires clarification (triggers input_required status)
   */
  function simulate_research_query(input: SimulateResearchQueryInput): Promise<unknown>;
}
