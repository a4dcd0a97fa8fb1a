declare namespace fastmcp {
  type Priority = "low" | "medium" | "high";
  type Assignee = {
    login: string;
    /** @default null */
    team?: string | null;
  };
  type Issue = { number: number; url: string };
  type CreateIssueInput = {
    title: string;
    /** @default [] */
    labels?: string[];
    /** @default "medium" */
    priority?: Priority;
    /** @default null */
    assignee?: Assignee | null;
    /** @default null */
    due?: string | null;
  };
  type CreateIssueOutput = { result: Issue };
  /**
   * Create an issue.
   *
   * Args:
   *     title: Short summary
   *     labels: Labels to set
   */
  function create_issue(input: CreateIssueInput): Promise<CreateIssueOutput>;
}
