// A query editor: a textarea over a backdrop that marks a parse-error position, with a completion popup fed by an
// async source (metric names, labels, values, functions). Ctrl/Cmd+Enter runs; Ctrl+Space asks for completions.
import { h, replace } from "../lib/dom";

export interface CompletionItem {
  label: string;
  kind: string;
  /** Text to insert instead of the label. */
  insert?: string;
  /** Moves the caret this many characters back from the end of the insertion (into `()` or `""`). */
  caretBack?: number;
}

export interface CompletionResult {
  from: number;
  items: CompletionItem[];
}

export type CompletionSource = (text: string, cursor: number, signal: AbortSignal) => Promise<CompletionResult | null>;

export interface EditorOptions {
  value: string;
  placeholder?: string;
  onRun: () => void;
  onChange?: (value: string) => void;
  complete?: CompletionSource;
  testid?: string;
}

const MAX_ITEMS = 200;

/** Items that start with the prefix first, then those containing it; case-insensitive. */
export function rankItems(items: CompletionItem[], prefix: string): CompletionItem[] {
  if (!prefix) return items.slice(0, MAX_ITEMS);
  const p = prefix.toLowerCase();
  const starts: CompletionItem[] = [];
  const contains: CompletionItem[] = [];
  for (const it of items) {
    const l = it.label.toLowerCase();
    if (l === p) continue;
    if (l.startsWith(p)) starts.push(it);
    else if (l.includes(p)) contains.push(it);
    if (starts.length >= MAX_ITEMS) break;
  }
  return starts.concat(contains).slice(0, MAX_ITEMS);
}

export class QueryEditor {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private backdrop: HTMLElement;
  private popup: HTMLElement;
  private errorAt: number | null = null;
  private items: CompletionItem[] = [];
  private from = 0;
  private selected = 0;
  private pending?: AbortController;
  private timer?: number;

  constructor(private opts: EditorOptions) {
    this.textarea = h("textarea", {
      rows: 1,
      spellcheck: "false",
      autocapitalize: "off",
      autocomplete: "off",
      placeholder: opts.placeholder ?? "",
      "data-testid": opts.testid ?? "editor",
      "aria-label": opts.placeholder ?? "query",
    });
    this.textarea.value = opts.value;
    this.backdrop = h("div", { class: "backdrop", "aria-hidden": "true" });
    this.popup = h("div", { class: "complete", role: "listbox", "data-testid": "completions", style: { display: "none" } });
    this.el = h("div", { class: "editor" }, this.backdrop, this.textarea, this.popup);
    this.textarea.addEventListener("input", () => this.onInput());
    this.textarea.addEventListener("keydown", (e) => this.onKey(e));
    this.textarea.addEventListener("scroll", () => (this.backdrop.scrollTop = this.textarea.scrollTop));
    this.textarea.addEventListener("blur", () => window.setTimeout(() => this.close(), 150));
    this.textarea.addEventListener("click", () => this.close());
    requestAnimationFrame(() => this.autosize());
    this.renderBackdrop();
  }

  get value(): string {
    return this.textarea.value;
  }

  set value(v: string) {
    this.textarea.value = v;
    this.markError(null);
    this.autosize();
  }

  focus(): void {
    this.textarea.focus();
  }

  /** Marks the character at `pos` (a string index) as the error position; null clears it. */
  markError(pos: number | null): void {
    this.errorAt = pos;
    this.renderBackdrop();
  }

  private renderBackdrop(): void {
    const v = this.textarea.value;
    if (this.errorAt === null || this.errorAt > v.length) {
      replace(this.backdrop, v + "\n");
      return;
    }
    const at = this.errorAt;
    const word = /^[\w:]+/.exec(v.slice(at));
    const end = at + Math.max(1, word ? word[0].length : 1);
    replace(this.backdrop, v.slice(0, at), h("mark", { "data-testid": "error-mark" }, v.slice(at, end) || " "), v.slice(end) + "\n");
  }

  private autosize(): void {
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight + 2, 400)}px`;
  }

  private onInput(complete = true): void {
    this.errorAt = null;
    this.renderBackdrop();
    this.autosize();
    this.opts.onChange?.(this.value);
    window.clearTimeout(this.timer);
    if (complete) this.timer = window.setTimeout(() => void this.requestCompletions(false), 120);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.close();
      this.opts.onRun();
      return;
    }
    if (e.key === " " && e.ctrlKey) {
      e.preventDefault();
      void this.requestCompletions(true);
      return;
    }
    if (!this.isOpen()) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = this.items.length;
      this.selected = (this.selected + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.renderPopup();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      this.accept(this.items[this.selected]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close();
    }
  }

  private isOpen(): boolean {
    return this.popup.style.display !== "none" && this.items.length > 0;
  }

  private close(): void {
    this.popup.style.display = "none";
    this.items = [];
    this.pending?.abort();
  }

  private async requestCompletions(explicit: boolean): Promise<void> {
    const source = this.opts.complete;
    if (!source || document.activeElement !== this.textarea) return;
    this.pending?.abort();
    const ctl = new AbortController();
    this.pending = ctl;
    const cursor = this.textarea.selectionStart;
    let res: CompletionResult | null = null;
    try {
      res = await source(this.value, cursor, ctl.signal);
    } catch {
      return; // completion is best effort: a failed lookup just shows nothing
    }
    if (ctl.signal.aborted || !res) return this.close();
    const prefix = this.value.slice(res.from, cursor);
    if (!explicit && prefix === "" && !/[{,(="'~]\s*$/.test(this.value.slice(0, cursor))) return this.close();
    this.items = rankItems(res.items, prefix);
    this.from = res.from;
    this.selected = 0;
    if (this.items.length === 0) return this.close();
    this.renderPopup();
  }

  private renderPopup(): void {
    replace(
      this.popup,
      this.items.map((it, i) =>
        h(
          "div",
          {
            class: i === this.selected ? "sel" : "",
            role: "option",
            onmousedown: (e: Event) => {
              e.preventDefault();
              this.accept(it);
            },
          },
          h("span", null, it.label),
          h("span", { class: "kind" }, it.kind),
        ),
      ),
    );
    const { top, left } = this.caretXY();
    this.popup.style.top = `${top + 22}px`;
    this.popup.style.left = `${Math.max(0, Math.min(left, this.el.clientWidth - 240))}px`;
    this.popup.style.display = "block";
    (this.popup.children[this.selected] as HTMLElement | undefined)?.scrollIntoView({ block: "nearest" });
  }

  private accept(it: CompletionItem | undefined): void {
    if (!it) return;
    const cursor = this.textarea.selectionStart;
    const v = this.value;
    // Replace the word around the cursor (also its part after the cursor).
    const after = /^[\w:]*/.exec(v.slice(cursor))?.[0].length ?? 0;
    const text = it.insert ?? it.label;
    this.textarea.value = v.slice(0, this.from) + text + v.slice(cursor + after);
    const pos = this.from + text.length - (it.caretBack ?? 0);
    this.textarea.setSelectionRange(pos, pos);
    this.close();
    // Inside new brackets or quotes the next completion is useful right away.
    this.onInput((it.caretBack ?? 0) > 0);
  }

  /** The caret's position inside the editor, measured on a mirror of the textarea. */
  private caretXY(): { top: number; left: number } {
    const mirror = h("div", { class: "backdrop", style: { visibility: "hidden", height: "auto" } });
    const caret = h("span", null, "\u200b");
    replace(mirror, this.value.slice(0, this.textarea.selectionStart), caret);
    this.el.appendChild(mirror);
    const top = caret.offsetTop - this.textarea.scrollTop;
    const left = caret.offsetLeft;
    mirror.remove();
    return { top, left };
  }
}
