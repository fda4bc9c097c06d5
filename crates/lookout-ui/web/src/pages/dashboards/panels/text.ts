// text: markdown (the safe renderer), code, or HTML shown as escaped text (never rendered), with variables
// interpolated.
import { h, replace } from "../../../lib/dom";
import { escapeHtml, renderMarkdown } from "../../../lib/markdown";
import type { RendererFactory } from "./types";

export const textPanel: RendererFactory = (body, panel) => {
  const box = h("div", { class: "text-panel" });
  body.append(box);
  return {
    update(_data, env) {
      const o = panel.options ?? {};
      const mode = (o.mode as string | undefined) ?? panel.mode ?? "markdown";
      const content = env.text(String(o.content ?? panel.content ?? ""));
      if (mode === "code") replace(box, h("pre", null, content));
      else if (mode === "html") box.innerHTML = renderMarkdown(content.replace(/<[^>]*>/g, " ")) || escapeHtml(content);
      else box.innerHTML = renderMarkdown(content);
      for (const a of box.querySelectorAll("a")) {
        const m = /\/d\/([^/?#]+)(?:\/[^?#]*)?(\?[^#]*)?/.exec(a.getAttribute("href") ?? "");
        if (m && !/^https?:/i.test(a.getAttribute("href") ?? "")) a.setAttribute("href", `#/d/${m[1]}${m[2] ?? ""}`);
      }
      return "ok";
    },
  };
};
