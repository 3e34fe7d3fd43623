// A broadcast chat room: one channel per listener, join and leave (Effective Concurrency in Go,
// ch. 2 and 8: a goroutine owns the state, others talk to it through channels).
//
// The broker owns the list of listeners; it selects over three channels: join (a name and the
// listener's own inbox channel), leave (a name) and say (a message it copies to every inbox).
// Users are go() tasks on worker threads; a channel of channels carries each inbox to the broker.
//
//   node examples/chat.js
import { Chan, WaitGroup, go, recv, select } from 'weft';

const tasks = new URL('./lib/chat.js', import.meta.url);
const room = { join: new Chan(0, { name: 'join' }), leave: new Chan(0, { name: 'leave' }), say: new Chan(8, { name: 'say' }) };

let delivered = 0;
let dropped = 0;
async function broker() {
  const listeners = new Map();
  const broadcast = (msg) => {
    for (const inbox of listeners.values()) {
      // A listener that does not keep up loses messages instead of stalling the room.
      if (inbox.trySend(msg)) delivered++;
      else dropped++;
    }
  };
  for (;;) {
    const { index, value, ok } = await select([recv(room.join), recv(room.leave), recv(room.say)]);
    if (index === 0) {
      listeners.set(value.name, value.inbox);
      console.log(`* ${value.name} joined (${listeners.size} in the room)`);
    } else if (index === 1) {
      listeners.get(value).close(); // its reader's loop ends once it has read what is left
      listeners.delete(value);
      console.log(`* ${value} left (${listeners.size} in the room)`);
      broadcast({ from: 'room', text: `${value} left` });
    } else if (!ok) {
      // `say` was closed: the room shuts down and every remaining reader's loop ends.
      for (const inbox of listeners.values()) inbox.close();
      console.log(`* room closed (${listeners.size} were still in it)`);
      return;
    } else {
      broadcast(value);
    }
  }
}
const brokerDone = broker();

const script = {
  alice: ['hi all', 'anyone up for lunch?'],
  bob: ['hello alice', 'lunch sounds good'],
  carol: ['hey', 'sorry, I have to go'],
};
const said = Object.values(script).flat().length; // 6: everybody sees all of them
const joined = new WaitGroup();
joined.add(3);
const users = Object.entries(script).map(([name, lines]) => [name, go(tasks, 'user', name, room, lines, joined, said, name === 'carol')]);

// Carol leaves after reading every message; the room closes once she is gone.
const carol = await users.find(([name]) => name === 'carol')[1];
room.say.close();
await brokerDone;

const received = {};
for (const [name, task] of users) {
  const got = name === 'carol' ? carol : await task;
  received[name] = got.length;
  for (const line of got) console.log(`[${name}] ${line}`);
}
const ok = received.alice === said + 1 && received.bob === said + 1 && received.carol === said && dropped === 0;
console.log(`chat: 3 users joined, ${said} messages said, alice got ${received.alice}, bob got ${received.bob}, carol got ${received.carol} and left, ${delivered} delivered, ${dropped} dropped: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
