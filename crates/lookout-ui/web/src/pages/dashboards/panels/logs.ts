// logs: Loki lines (newest first unless options.sortOrder is Ascending), with time and level colour; a click
// shows the line's labels and metadata.
import { h, replace } from "../../../lib/dom";
import { compareNs } from "../../logs/model";
import { renderLines } from "../../logs/lines";
import { navigate } from "../../../lib/router";
import type { RendererFactory } from "./types";

export const logsPanel: RendererFactory = (body, panel) => {
  const box = h("div", { class: "logs-panel log-lines", "data-testid": "log-lines" });
  body.append(box);
  return {
    update(data) {
      const lines = [...data.logs];
      if (panel.options?.sortOrder === "Ascending") lines.sort((a, b) => compareNs(a.ns, b.ns));
      else lines.sort((a, b) => compareNs(b.ns, a.ns));
      if (!lines.length) {
        replace(box, h("div", { class: "nodata" }, "No data"));
        return "nodata";
      }
      renderLines(box, lines, (selector) => navigate("/logs", { query: selector }));
      box.querySelectorAll(".ts").forEach((el) => ((el as HTMLElement).style.display = panel.options?.showTime === false ? "none" : ""));
      if (panel.options?.wrapLogMessage === false) box.querySelectorAll(".msg").forEach((el) => ((el as HTMLElement).style.whiteSpace = "pre"));
      return "ok";
    },
  };
};
