import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Leg } from "@callscribe/messaging";

/** SIPREC recording metadata (RFC 7865) and its mapping of media streams to call legs. Pure. */

export interface RecordingParticipant {
  id: string;
  aor?: string;
  name?: string;
  /** stream_ids this participant sends on. */
  sends: string[];
}

export interface RecordingMetadata {
  sessionIds: string[];
  sipSessionIds: string[];
  participants: RecordingParticipant[];
  /** stream_id → a=label of its m= line. */
  streams: { id: string; label: string }[];
}

export class SiprecMetadataError extends Error {
  override readonly name = "SiprecMetadataError";
}

export const RS_METADATA_TYPE = "application/rs-metadata+xml";
const MAX_METADATA_BYTES = 32_768;
const MAX_ENTRIES = 64;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) =>
    ["participant", "stream", "participantstreamassoc", "session", "send", "recv", "nameID", "name"].includes(
      name,
    ),
});

type XmlNode = Record<string, unknown>;

export function parseRecordingMetadata(xml: string): RecordingMetadata {
  if (xml.length > MAX_METADATA_BYTES)
    throw new SiprecMetadataError(`metadata longer than ${MAX_METADATA_BYTES} bytes`);
  // Entity declarations would let a peer expand text far past the size limit; metadata never needs them.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SiprecMetadataError("metadata must not declare a DOCTYPE");
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new SiprecMetadataError(`metadata is not well-formed XML: ${valid.err.msg}`);
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (cause) {
    throw new SiprecMetadataError("metadata could not be parsed", { cause });
  }
  const recording = doc["recording"];
  if (!isNode(recording)) throw new SiprecMetadataError("metadata has no <recording> root element");

  const participants = nodes(recording["participant"]).map((p): RecordingParticipant => {
    const id = attr(p, "participant_id");
    const nameId = nodes(p["nameID"])[0];
    // RFC 7865 puts the AoR in <nameID aor=...>; the drafts before it used an <aor> child.
    const aor = (nameId && attr(nameId, "aor")) || text(p["aor"]) || undefined;
    const name = text(nameId?.["name"]) || text(p["name"]) || undefined;
    // Early drafts listed <send> inside <participant>.
    return { id, aor, name, sends: textList(p["send"]) };
  });
  for (const assoc of nodes(recording["participantstreamassoc"])) {
    const owner = participants.find((p) => p.id === attr(assoc, "participant_id"));
    if (owner) owner.sends.push(...textList(assoc["send"]));
  }
  const streams = nodes(recording["stream"]).map((s) => ({
    id: attr(s, "stream_id"),
    label: text(s["label"]),
  }));
  if (participants.length > MAX_ENTRIES || streams.length > MAX_ENTRIES) {
    throw new SiprecMetadataError(`metadata lists more than ${MAX_ENTRIES} participants or streams`);
  }
  return {
    sessionIds: nodes(recording["session"])
      .map((s) => attr(s, "session_id"))
      .filter(Boolean),
    sipSessionIds: nodes(recording["session"]).flatMap((s) => textList(s["sipSessionID"])),
    participants: participants.filter((p) => p.id),
    streams: streams.filter((s) => s.id && s.label),
  };
}

export interface SiprecLegAssignment {
  /** m= line index → the leg it carries; m= lines not in the map are not published (mixed or extra). */
  legs: Map<number, Leg>;
  participants: { leg: Leg; name?: string; aor?: string }[];
}

/**
 * Maps each m= line (by its a=label) to a leg. A stream sent by exactly one participant belongs to
 * that participant; a stream several participants send on is the mixed one some SBCs add, and is not
 * a leg. The caller is the participant whose AoR matches `callerAor` (the From of the recorded call,
 * when the SRC tells it), else the first in document order; the agent is the next one.
 */
export function assignSiprecLegs(
  metadata: RecordingMetadata,
  labels: (string | undefined)[],
  callerAor?: string,
): SiprecLegAssignment {
  const streamOwner = new Map<number, RecordingParticipant>();
  labels.forEach((label, index) => {
    if (label === undefined) return;
    const stream = metadata.streams.find((s) => s.label === label);
    if (!stream) return;
    const senders = metadata.participants.filter((p) => p.sends.includes(stream.id));
    if (senders.length === 1) streamOwner.set(index, senders[0]!);
  });
  const owners = metadata.participants.filter((p) => [...streamOwner.values()].includes(p));
  const wanted = callerAor ? normaliseAor(callerAor) : undefined;
  const caller = owners.find((p) => p.aor && normaliseAor(p.aor) === wanted) ?? owners[0];
  const agent = owners.find((p) => p !== caller);
  const legs = new Map<number, Leg>();
  const participants: SiprecLegAssignment["participants"] = [];
  for (const [participant, leg] of [
    [caller, "caller"],
    [agent, "agent"],
  ] as const) {
    if (!participant) continue;
    const index = [...streamOwner.entries()].find(([, p]) => p === participant)?.[0];
    if (index === undefined) continue;
    legs.set(index, leg);
    participants.push({ leg, name: participant.name, aor: participant.aor });
  }
  if (legs.size === 0) {
    // Metadata that ties no stream to one participant: fall back to the order of the labelled m= lines.
    const labelled = labels.flatMap((label, index) => (label === undefined ? [] : [index]));
    const order: Leg[] = ["caller", "agent"];
    labelled.slice(0, 2).forEach((index, i) => legs.set(index, order[i]!));
  }
  return { legs, participants };
}

/** "sip:Alice@Atlanta.com;user=phone" and "<sip:alice@atlanta.com>" compare equal. */
export function normaliseAor(aor: string): string {
  const inner = /<([^>]*)>/.exec(aor)?.[1] ?? aor;
  return inner
    .trim()
    .replace(/^sips?:/i, "")
    .split(/[;?]/)[0]!
    .toLowerCase();
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nodes(value: unknown): XmlNode[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter(isNode);
}

function attr(node: XmlNode, name: string): string {
  const value = node[`@${name}`];
  return typeof value === "string" ? value.trim() : "";
}

function text(value: unknown): string {
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === "string") return value.trim();
  if (isNode(value) && typeof value["#text"] === "string") return value["#text"].trim();
  return "";
}

function textList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(text).filter(Boolean);
}
