// Request statuses as bus messages: each change of a request's status puts its
// relengd.request.<status> message in the outbox in the same transaction (the status and its
// message commit together, or neither does), from where the publisher sends it.
import { randomUUID } from "node:crypto";
import { renderEnvelopeJson } from "../domain/envelope.js";
import { insertOutboxMessages, NO_RELEASE, type OutboxMessage } from "../store/busOutboxRepository.js";
import type { RequestRecord, RequestStatusListener } from "../store/requestRepository.js";
import type { Tx } from "../store/store.js";
import { renderRequestMessage, requestTopic } from "./requestMessage.js";

/** The outbox key of a request's status: one message per (request, status), ever. */
export const requestEventKey = (id: string, status: string) => `request/${id}/${status}`;

/**
 * Every request is announced `proposed` before its first other status (a request is judged as
 * it is recorded: both come in one transaction, proposed first). A status a request comes back
 * to (approved again after a merge conflict was resolved) is not announced twice.
 */
export class RequestAnnouncer implements RequestStatusListener {
  private pending = false;

  constructor(private readonly deps: { /** Something was added to the outbox (the publisher's wake-up; it also polls). */ added?: () => void } = {}) {}

  async changed(tx: Tx, requests: readonly RequestRecord[], now: Date): Promise<void> {
    const messages: OutboxMessage[] = [];
    for (const r of requests) {
      for (const status of r.status === "proposed" ? (["proposed"] as const) : (["proposed", r.status] as const)) {
        const id = randomUUID();
        messages.push({ key: requestEventKey(r.id, status), messageId: id, releaseSeq: NO_RELEASE, topic: requestTopic(status), envelope: renderEnvelopeJson(renderRequestMessage(r, status, id, now)) });
      }
    }
    if ((await insertOutboxMessages(tx, messages, now)) > 0) this.pending = true;
  }

  /**
   * A change of status committed (the request flows tell it after their transaction): the
   * publisher is woken if messages were added. It reads committed rows only; its own poll
   * covers what no flow tells.
   */
  committed(): void {
    if (!this.pending) return;
    this.pending = false;
    this.deps.added?.();
  }
}
