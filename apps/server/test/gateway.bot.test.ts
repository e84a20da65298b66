// The example bot in another language (examples/bots/python/echo_bot.py, Python with `websockets`) against a
// real node's gateway, with a person on Socket.IO in the room: it answers "!echo …" as a reply, ignores
// what was said before it started, and after its connection is cut it catches up with sync and answers
// what it missed exactly once.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Message } from '@chat/protocol';
import { REPO_ROOT, waitUntil } from '@chat/testkit';
import { collect, createRoom, http, joinRoom, nextEvent, registerUser } from './support/harness';
import { useNode } from './support/node-fixture';

const BOT = join(REPO_ROOT, 'examples/bots/python/echo_bot.py');

describe('examples/bots/python/echo_bot.py on the gateway', () => {
  const node = useNode('postgres', { env: { OPS_TOKEN: 'bot-test-ops-token-bot-test-ops-token-01' } });
  let bot: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (bot?.exitCode === null) {
      const exited = new Promise((resolve) => bot!.once('exit', resolve));
      bot.kill('SIGTERM');
      await exited;
    }
  });

  test('python3 with the websockets package is installed (scripts/install-test-deps.sh)', () => {
    const check = spawnSync('python3', ['-c', 'import websockets, sys; sys.exit(0 if int(websockets.__version__.split(".")[0]) >= 15 else 1)'], { encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('answers !echo as a reply, once, and catches up after its connection is cut', async () => {
    const person = await registerUser(node, 'person');
    const botUser = await registerUser(node, 'echo');
    const roomId = await createRoom(node, person);
    await joinRoom(node, botUser, roomId);
    const { socket } = await node.connect(person.accessToken);
    // Said before the bot starts: never answered.
    expect((await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: '!echo too early' })).ok).toBe(true);

    bot = spawn('python3', [BOT], {
      env: { PATH: process.env.PATH, CHAT_URL: node.url, CHAT_USERNAME: botUser.user.username, CHAT_PASSWORD: botUser.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bot.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    bot.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const readyCount = () => output.split('\n').filter((l) => l.startsWith('ready ')).length;
    await waitUntil(async () => readyCount() >= 1 || (bot!.exitCode !== null && Promise.reject(new Error(output))), {
      timeoutMs: 20_000,
      description: `the bot to be ready; its output: ${output}`,
    });

    const answers = collect(socket, 'message:new');
    const question = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: '!echo hello, bot' });
    if (!question.ok) throw new Error('send failed');
    const answer = await nextEvent(socket, 'message:new', (m) => m.senderId === botUser.user.id);
    expect(answer).toMatchObject({ content: 'echo: hello, bot', replyTo: question.message.id, roomId });

    // The bot is paused, every socket of the node is cut (its gateway connection among them) and a question
    // comes while it is away: resumed, it reconnects, catches up with sync and answers it, once.
    bot.kill('SIGSTOP');
    expect((await http(node.url, 'POST', '/ops/sockets/drop', { token: 'bot-test-ops-token-bot-test-ops-token-01', body: { scope: 'node' } })).status).toBe(200);
    const again = await node.connect(person.accessToken);
    const missed = await again.socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: '!echo while you were away' });
    if (!missed.ok) throw new Error('send failed');
    const caughtUp = nextEvent(again.socket, 'message:new', (m) => m.senderId === botUser.user.id && m.replyTo === missed.message.id);
    bot.kill('SIGCONT');
    expect((await caughtUp).content).toBe('echo: while you were away');
    await waitUntil(async () => readyCount() >= 2, { timeoutMs: 20_000, description: `the bot to report its second start; its output: ${output}` });

    // Exactly one answer per question, none to the early one (read the room's history: the source of truth).
    const history = await http<{ messages: Message[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: person.accessToken });
    const fromBot = history.body.messages.filter((m) => m.senderId === botUser.user.id).map((m) => m.content);
    expect(fromBot).toEqual(['echo: hello, bot', 'echo: while you were away']);
    expect(answers.filter((m) => m.senderId === botUser.user.id).length).toBeGreaterThanOrEqual(1);
  });
});
