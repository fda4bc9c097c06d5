// Series colours: Grafana's classic palette, and its named colours (thresholds and overrides say "red",
// "semi-dark-green", "#ff0000" or "rgb(…)").

export const PALETTE = [
  "#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0", "#508642", "#CCA300",
  "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477", "#B7DBAB", "#F4D598", "#70DBED", "#F9BA8F",
  "#F29191", "#82B5D8", "#E5A8E2", "#AEA2E0", "#629E51", "#E5AC0E", "#64B0C8", "#E0752D", "#BF1B00", "#0A50A1",
];

const HUES: Record<string, [string, string, string, string, string]> = {
  // super-light, light, (base), semi-dark, dark
  red: ["#FFA6B0", "#FF7383", "#F2495C", "#E02F44", "#C4162A"],
  orange: ["#FFCB7D", "#FFB357", "#FF9830", "#FF780A", "#FA6400"],
  yellow: ["#FFF899", "#FFEE52", "#FADE2A", "#F2CC0C", "#E0B400"],
  green: ["#C8F2C2", "#96D98D", "#73BF69", "#56A64B", "#37872D"],
  blue: ["#C0D8FF", "#8AB8FF", "#5794F2", "#3274D9", "#1F60C4"],
  purple: ["#DEB6F2", "#CA95E5", "#B877D9", "#A352CC", "#8F3BB8"],
};

const EXTRA: Record<string, string> = {
  transparent: "rgba(0,0,0,0)",
  text: "var(--fg)",
  white: "#ffffff",
  black: "#000000",
  gray: "#8e8e8e",
  grey: "#8e8e8e",
};

/** A CSS colour for a Grafana colour name or CSS value. */
export function resolveColor(name: string | undefined | null, fallback = PALETTE[0]): string {
  if (!name) return fallback;
  const n = name.trim();
  const lc = n.toLowerCase();
  if (EXTRA[lc]) return EXTRA[lc];
  const m = /^(super-light-|light-|semi-dark-|dark-)?(red|orange|yellow|green|blue|purple)$/.exec(lc);
  if (m) {
    const shade = { "super-light-": 0, "light-": 1, "semi-dark-": 3, "dark-": 4 }[m[1] ?? ""] ?? 2;
    return HUES[m[2]][shade];
  }
  return n;
}

export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** `color` with opacity `alpha` (hex colours only; others are returned as they are). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  let hex = m[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${alpha})`;
}
