// A dropdown of checkboxes for multi-value template variables, with "All" and a filter box.
import { h, replace } from "../lib/dom";

export interface MultiOption {
  text: string;
  value: string;
}

export function multiSelect(
  options: MultiOption[],
  selected: string[],
  includeAll: boolean,
  isAll: boolean,
  onChange: (values: string[], all: boolean) => void,
  testid: string,
): HTMLElement {
  let chosen = new Set(selected);
  let all = isAll;
  const label = () => (all ? "All" : options.filter((o) => chosen.has(o.value)).map((o) => o.text).join(" + ") || "None");
  const button = h("button", { type: "button", "data-testid": testid, "aria-haspopup": "listbox", style: { maxWidth: "320px", overflow: "hidden", textOverflow: "ellipsis" } }, label());
  const filter = h("input", { type: "search", placeholder: "Filter", style: { width: "100%" } });
  const list = h("div", { style: { maxHeight: "260px", overflowY: "auto" } });
  const pop = h("div", { class: "complete", style: { display: "none", padding: "6px", fontFamily: "var(--sans)" } }, filter, list);
  const wrap = h("span", { style: { position: "relative", display: "inline-block" } }, button, pop);
  const draw = () => {
    const q = filter.value.toLowerCase();
    const row = (text: string, checked: boolean, toggle: () => void) => {
      const cb = h("input", { type: "checkbox", checked });
      cb.addEventListener("change", toggle);
      return h("label", { style: { display: "block", padding: "2px 4px", cursor: "pointer" } }, cb, ` ${text}`);
    };
    replace(
      list,
      includeAll ? row("All", all, () => ((all = !all), all && chosen.clear(), draw())) : null,
      options
        .filter((o) => !q || o.text.toLowerCase().includes(q))
        .map((o) =>
          row(o.text, !all && chosen.has(o.value), () => {
            all = false;
            if (chosen.has(o.value)) chosen.delete(o.value);
            else chosen.add(o.value);
            draw();
          }),
        ),
    );
  };
  const close = () => {
    if (pop.style.display === "none") return;
    pop.style.display = "none";
    document.removeEventListener("mousedown", outside);
    button.textContent = label();
    if (!all && chosen.size === 0 && options.length) chosen = new Set([options[0].value]);
    onChange([...chosen], all);
  };
  const outside = (e: MouseEvent) => {
    if (!wrap.contains(e.target as Node)) close();
  };
  button.addEventListener("click", () => {
    if (pop.style.display !== "none") return close();
    pop.style.display = "block";
    pop.style.top = "100%";
    pop.style.left = "0";
    filter.value = "";
    draw();
    filter.focus();
    document.addEventListener("mousedown", outside);
  });
  filter.addEventListener("input", draw);
  filter.addEventListener("keydown", (e) => {
    if (e.key === "Escape" || e.key === "Enter") close();
  });
  return wrap;
}
