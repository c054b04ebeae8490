import { describe, expect, it } from "vitest";
import { applyStatusChange, type TicketAssignment } from "./status-change.ts";

const fresh: TicketAssignment = { status: "new", assignee: null };
const withDana: TicketAssignment = { status: "assigned", assignee: "dana" };
const resolved: TicketAssignment = { status: "resolved", assignee: "dana" };

describe("applyStatusChange", () => {
  it("assigns a new ticket to the assignee given", () => {
    expect(applyStatusChange(fresh, { status: "assigned", assignee: "dana" })).toEqual({
      kind: "changed",
      next: { status: "assigned", assignee: "dana" },
      statusChanged: true,
    });
  });

  it("assigns a new ticket when only an assignee is sent", () => {
    expect(applyStatusChange(fresh, { assignee: "lee" })).toMatchObject({
      next: { status: "assigned", assignee: "lee" },
      statusChanged: true,
    });
  });

  it("reassigns without changing the status", () => {
    expect(applyStatusChange(withDana, { assignee: "lee" })).toEqual({
      kind: "changed",
      next: { status: "assigned", assignee: "lee" },
      statusChanged: false,
    });
  });

  it("refuses an assigned status without anyone to assign", () => {
    expect(applyStatusChange(fresh, { status: "assigned" })).toEqual({
      kind: "invalid",
      reason: "an assigned ticket needs an assignee; send assignee with it",
    });
    expect(applyStatusChange(withDana, { assignee: null })).toMatchObject({ kind: "invalid" });
  });

  it("resolves an assigned ticket and keeps its assignee", () => {
    expect(applyStatusChange(withDana, { status: "resolved" })).toMatchObject({
      next: { status: "resolved", assignee: "dana" },
      statusChanged: true,
    });
  });

  it("returns an assigned ticket to new and clears the assignee", () => {
    expect(applyStatusChange(withDana, { status: "new" })).toMatchObject({
      next: { status: "new", assignee: null },
    });
    expect(applyStatusChange(withDana, { status: "new", assignee: "lee" })).toMatchObject({
      kind: "invalid",
    });
  });

  it("reopens a resolved ticket only by assigning it", () => {
    expect(applyStatusChange(resolved, { status: "new" })).toMatchObject({ kind: "conflict" });
    expect(applyStatusChange(resolved, { status: "assigned", assignee: "lee" })).toMatchObject({
      next: { status: "assigned", assignee: "lee" },
      statusChanged: true,
    });
  });
});
