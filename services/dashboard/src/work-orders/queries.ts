import { outbox, tickets } from "@callscribe/db";
import { sql, type SQL } from "drizzle-orm";
import type { TicketFilters, TicketStatusValue } from "../analytics/filters.ts";
import { ticketWhere } from "../analytics/queries.ts";

/**
 * `version` grows with every change of the ticket (a rewrite by the summarizer, a status update
 * here); a status update that names an older one is refused, so two dispatchers cannot overwrite
 * each other unseen.
 */
const workOrderColumns = sql`
  ${tickets.callId} as "callId", ${tickets.startedAt} as "startedAt", ${tickets.endedAt} as "endedAt",
  ${tickets.durationMs} as "durationMs", ${tickets.category} as category, ${tickets.subcategory} as subcategory,
  ${tickets.urgency} as urgency, ${tickets.status} as status, ${tickets.assignee} as assignee,
  ${tickets.statusChangedAt} as "statusChangedAt", ${tickets.agentId} as "agentId",
  ${tickets.summary} as summary, ${tickets.actionItems} as "actionItems", ${tickets.keywords} as keywords,
  ${tickets.sentimentOverall}::float8 as sentiment, ${tickets.dialect} as dialect,
  ${tickets.incomplete} as incomplete, ${tickets.version} as version, ${tickets.updatedAt} as "updatedAt"`;

export interface WorkOrderRow {
  callId: string;
  status: TicketStatusValue;
  assignee: string | null;
  statusChangedAt: Date | null;
  version: number;
  [column: string]: unknown;
}

export function workOrderPageQuery(f: TicketFilters, limit: number, offset: number): SQL {
  return sql`
    select ${workOrderColumns} from ${tickets} where ${ticketWhere(f)}
    order by ${tickets.startedAt} desc nulls last, ${tickets.callId} desc nulls last limit ${limit + 1} offset ${offset}`;
}

export function workOrderQuery(callId: string, opts: { forUpdate: boolean } = { forUpdate: false }): SQL {
  return sql`
    select ${workOrderColumns}, ${tickets.redactedTranscript} as transcript
    from ${tickets} where ${tickets.callId} = ${callId} ${opts.forUpdate ? sql`for update` : sql``}`;
}

/** Sets status and assignee and moves the ticket to its next version. */
export function updateAssignmentQuery(
  callId: string,
  next: { status: TicketStatusValue; assignee: string | null },
  statusChanged: boolean,
): SQL {
  return sql`
    update ${tickets} set
      status = ${next.status}::ticket_status,
      assignee = ${next.assignee},
      status_changed_at = ${statusChanged ? sql`clock_timestamp()` : sql`status_changed_at`},
      version = version + 1,
      updated_at = clock_timestamp()
    where ${tickets.callId} = ${callId}`;
}

/** Queues the change for the hotline's webhooks in the same transaction as the change itself. */
export function queueTicketUpdatedQuery(ticket: WorkOrderRow): SQL {
  const payload = {
    event: "ticket.updated",
    callId: ticket.callId,
    version: ticket.version,
    status: ticket.status,
    assignee: ticket.assignee,
    statusChangedAt: ticket.statusChangedAt,
  };
  return sql`
    insert into ${outbox} (call_id, kind, ticket_version, payload)
    values (${ticket.callId}, 'ticket.updated', ${ticket.version}, ${JSON.stringify(payload)}::jsonb)`;
}
