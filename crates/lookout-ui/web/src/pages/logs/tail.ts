// Live tail over Loki's WebSocket API (`loki/api/v1/tail`, ws:// or wss:// after the page's scheme). Each frame
// carries `{"streams":[…]}`; the caller gets the new lines.
import { wsUrl } from "../../lib/api";
import { flattenStreams, type LogLine, type Stream } from "./model";

export interface TailHandlers {
  onLines: (lines: LogLine[]) => void;
  onClose: (reason: string) => void;
}

export function startTail(query: string, h: TailHandlers): () => void {
  const startNs = `${Date.now() - 60_000}000000`;
  let closedByUs = false;
  let ws: WebSocket;
  try {
    ws = new WebSocket(wsUrl("loki/api/v1/tail", { query, limit: 100, start: startNs }));
  } catch (e) {
    h.onClose(`cannot open the live tail: ${(e as Error).message}`);
    return () => {};
  }
  ws.onmessage = (ev) => {
    try {
      const frame = JSON.parse(String(ev.data)) as { streams?: Stream[] };
      const lines = flattenStreams(frame.streams ?? []);
      if (lines.length) h.onLines(lines);
    } catch {
      // A frame that is not JSON is skipped; the tail goes on.
    }
  };
  ws.onclose = (ev) => {
    if (!closedByUs) h.onClose(ev.reason || (ev.code === 1000 ? "the server ended the live tail" : `the live tail closed (code ${ev.code})`));
  };
  return () => {
    closedByUs = true;
    ws.close();
  };
}
