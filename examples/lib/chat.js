// Task of examples/chat.js: one chat user, on a pool thread (go()).
import { Chan } from 'weft';

/**
 * Joins the room with an inbox of its own (a channel, sent to the broker by reference), waits
 * until everybody has joined, says its lines, and reads its inbox. A user that `leaves` does so
 * once it has seen `expect` messages; the others read until the broker closes their inbox.
 * Returns what it received.
 */
export function user(name, room, lines, joined, expect, leaves) {
  const inbox = new Chan(64, { name: `inbox of ${name}` });
  room.join.sendSync({ name, inbox });
  joined.done();
  joined.waitSync();
  for (const text of lines) room.say.sendSync({ from: name, text });
  const got = [];
  for (const m of inbox) {
    got.push(`${m.from}: ${m.text}`);
    if (leaves && got.length === expect) room.leave.sendSync(name); // the broker closes the inbox
  }
  return got;
}
