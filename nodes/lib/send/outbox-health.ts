// Whether callback out's outbox can write now: turns a write error into the msg's error (a full
// disk, the OS error, another process holding the journal), the status to show while writes
// fail, and one log line when writing stops and one when it works again (not one per msg).
import { isNoRoom } from "../outbox/journal-fs";
import { JournalLockedError } from "../outbox/journal-lock";
import { UnsafeOutboxError } from "../outbox/own-files";
import type { Translate } from "../shared/messages";
import type { SenderLog } from "./types";

export class OutboxHealth {
  /** Status text while writes fail; undefined while they work. */
  private failing: string | undefined;

  constructor(
    private readonly file: string,
    private readonly t: Translate,
    private readonly log: SenderLog,
    private readonly changed: () => void,
  ) {}

  get refusing(): string | undefined {
    return this.failing;
  }

  /** A write failed: the error to give the msg (logged once until writes work again). */
  failed(err: unknown): Error {
    const { t, file } = this;
    const full = isNoRoom(err);
    const message = full
      ? t("errors.outbox-full", { file })
      : t("errors.outbox-write", { file, error: err instanceof Error ? err.message : String(err) });
    if (this.failing === undefined) this.log.error(message);
    this.failing = full ? t("status.disk-full") : t("status.outbox-error");
    this.changed();
    return new Error(message);
  }

  /** A write worked: msgs are taken again. */
  wrote(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    const { t } = this;
    this.log.info(t("log.outbox-writable", { file: this.file }));
    this.changed();
  }

  /** The outbox did not open: the log line, the status and the error for each msg. */
  openFailed(err: unknown): { message: string; status: string } {
    const { t, file } = this;
    if (err instanceof JournalLockedError) {
      return { message: t("errors.outbox-locked", { file, pid: err.owner }), status: t("status.outbox-locked", { pid: err.owner }) };
    }
    if (err instanceof UnsafeOutboxError) {
      return { message: t(`errors.outbox-${err.reason}`, { path: err.target, detail: err.detail }), status: t("status.outbox-unsafe") };
    }
    const error = err instanceof Error ? err.message : String(err);
    return { message: t("errors.outbox-open", { file, error }), status: t("status.outbox-error") };
  }
}
