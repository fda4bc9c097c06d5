// Dark/light theme: follows prefers-color-scheme until the user picks one (remembered in localStorage).

const KEY = "lookout-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

export type Theme = "dark" | "light";

function stored(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === "dark" || v === "light" ? v : null;
  } catch {
    return null;
  }
}

export function currentTheme(): Theme {
  return stored() ?? (media.matches ? "dark" : "light");
}

function apply(): void {
  document.documentElement.dataset.theme = currentTheme();
  window.dispatchEvent(new Event("lookout-theme"));
}

export function toggleTheme(): void {
  try {
    localStorage.setItem(KEY, currentTheme() === "dark" ? "light" : "dark");
  } catch {
    // Private mode without storage: the toggle lasts for this page only.
  }
  apply();
}

export function initTheme(): void {
  apply();
  media.addEventListener("change", () => {
    if (!stored()) apply();
  });
}

/** A CSS custom property's value on the root element (charts read their colours from the theme). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
