import type { TicketStatusValue } from "../analytics/filters.ts";

/** What the work-order system asked for: a new status, a new assignee (null unassigns), or both. */
export interface StatusChangeRequest {
  status?: TicketStatusValue;
  assignee?: string | null;
}

export interface TicketAssignment {
  status: TicketStatusValue;
  assignee: string | null;
}

export type StatusChangeOutcome =
  | { kind: "changed"; next: TicketAssignment; statusChanged: boolean }
  | { kind: "invalid"; reason: string }
  | { kind: "conflict"; reason: string };

/**
 * The rules of a ticket's life: new → assigned → resolved. An assigned ticket has an assignee and
 * a new one has none; giving a new ticket an assignee assigns it. A resolved ticket is reopened by
 * assigning it again, never by making it new, so its history of being handled is kept.
 */
export function applyStatusChange(
  current: TicketAssignment,
  change: StatusChangeRequest,
): StatusChangeOutcome {
  const assignee = change.assignee === undefined ? current.assignee : change.assignee;
  let status = change.status ?? current.status;
  if (change.status === undefined && current.status === "new" && assignee !== null) status = "assigned";

  if (status === "new") {
    if (current.status === "resolved") {
      return {
        kind: "conflict",
        reason: "the ticket is resolved; reopen it by assigning it (status assigned with an assignee)",
      };
    }
    if (change.assignee !== undefined && change.assignee !== null) {
      return { kind: "invalid", reason: "a new ticket has no assignee; send status assigned to assign it" };
    }
    return done(current, { status, assignee: null });
  }
  if (status === "assigned" && assignee === null) {
    return { kind: "invalid", reason: "an assigned ticket needs an assignee; send assignee with it" };
  }
  if (status === "resolved" && change.assignee === null) {
    return { kind: "invalid", reason: "a resolved ticket keeps who resolved it; leave assignee out" };
  }
  return done(current, { status, assignee });
}

function done(current: TicketAssignment, next: TicketAssignment): StatusChangeOutcome {
  return { kind: "changed", next, statusChanged: next.status !== current.status };
}
