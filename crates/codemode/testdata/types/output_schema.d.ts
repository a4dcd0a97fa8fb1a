declare namespace weather {
  type Day = {
    /** @format date */
    date: string;
    /** Celsius */
    high: number;
    /** Celsius */
    low: number;
  };
  type GetForecastInput = {
    city: string;
    /** @default 3 */
    days?: number;
  };
  type GetForecastOutput = { city: string; days: Day[] };
  /**
   * Forecast for a city.
   * @param input.city - City name
   * @returns One entry per day, first day first.
   */
  function get_forecast(input: GetForecastInput): Promise<GetForecastOutput>;

  type GetAlertsInput = { region?: string };
  type GetAlertsOutput = { alerts: string[] };
  /** Active alerts; the output schema has no description. */
  function get_alerts(input?: GetAlertsInput): Promise<GetAlertsOutput>;

  type PingInput = { [key: string]: unknown };
  function ping(input?: PingInput): Promise<unknown>;
}
