declare namespace draft2020 {
  type Point = { x: number; y: number; label?: string };
  /**
   * How to draw.
   * Every field is optional.
   */
  type Style = { color?: string; dash?: [number, number?] };
  type PlotInput = {
    points: Point[];
    range?: [number, number];
    series?: [string, ...number[]];
    style?: Style;
    /** @default null */
    title?: string | null;
    version?: 2;
  };
  /**
   * Plots points (2020-12 schema with $defs and prefixItems).
   * @param input.range - Closed tuple
   * @param input.series - A name, then any number of values
   * @param input.style - Overrides the default style
   */
  function plot(input: PlotInput): Promise<unknown>;
}
