// End-to-end check that the official `openai` npm client reads `autothink serve` replies:
// chat (non-stream and stream) with the AutoThink fields (reasoning_content, judge, think_mode,
// usage.completion_tokens_details.reasoning_tokens), raw-prompt completions that keep the tags,
// and the API key. Usage: node openai_client.mjs BASE_URL [API_KEY]   (BASE_URL ends in /v1)
// Random-weight models don't speak the KAT format, so every request forces its mode
// (think_mode "on"/"off", thinking_budget) to make the structure deterministic.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const baseURL = process.argv[2];
const apiKey = process.argv[3] ?? 'unused';
if (!baseURL) {
  console.error('usage: node openai_client.mjs BASE_URL [API_KEY]');
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });

// Literals of the 11 KAT special tokens: none may leak into a chat field.
const TAGS = ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<judge>', '</judge>', '<think_on>', '<think_off>',
              '<think>', '</think>', '<answer>', '</answer>'];
const FORCED_ON_JUDGE = 'Thinking was requested.';
const FORCED_OFF_JUDGE = 'A direct answer was requested.';
const BUDGET = 6;

// Every string anywhere in `value`, with its JSON path.
function* strings(value, path = '$') {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; ++i) yield* strings(value[i], `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}.${k}`);
}

function assertNoTags(value, what) {
  for (const [path, text] of strings(value))
    for (const tag of TAGS) assert.ok(!text.includes(tag), `${what}: ${path} holds the tag literal ${tag}: ${JSON.stringify(text)}`);
}

const checks = [];
function check(name, fn) { checks.push([name, fn]); }

let model;
const question = [{ role: 'user', content: 'What is 2 plus 3?' }];
// Extra body params (think_mode, thinking_budget, seed) pass through the client untouched.
const chatParams = (mode) => ({ model, messages: question, max_tokens: 40, temperature: 0, seed: 7,
                                think_mode: mode, thinking_budget: BUDGET });

check('models.list names the served model', async () => {
  const page = await client.models.list();
  assert.ok(page.data.length >= 1, 'no models listed');
  model = page.data[0].id;
  assert.equal(typeof model, 'string');
});

let onMessage, onUsage;
check('chat non-stream, forced on: reasoning_content, judge, think_mode, reasoning_tokens', async () => {
  const r = await client.chat.completions.create(chatParams('on'));
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  const m = r.choices[0].message;
  assert.equal(m.role, 'assistant');
  assert.equal(m.think_mode, 'on');
  assert.equal(m.judge, FORCED_ON_JUDGE);
  assert.equal(typeof m.reasoning_content, 'string');
  assert.ok(m.reasoning_content.length > 0, `empty reasoning_content: ${JSON.stringify(r)}`);
  assert.equal(typeof m.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason), r.choices[0].finish_reason);
  const reasoningTokens = r.usage.completion_tokens_details.reasoning_tokens;
  assert.ok(reasoningTokens >= 1 && reasoningTokens <= BUDGET, `reasoning_tokens ${reasoningTokens} outside 1..${BUDGET}`);
  assert.ok(r.usage.completion_tokens >= reasoningTokens);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assertNoTags(r, 'chat non-stream');
  onMessage = m;
  onUsage = r.usage;
});

check('chat stream, forced on: deltas add up to the non-stream message; usage chunk', async () => {
  const stream = await client.chat.completions.create({ ...chatParams('on'), stream: true,
                                                        stream_options: { include_usage: true } });
  const got = { role: '', judge: '', reasoning_content: '', content: '', think_mode: '' };
  let usage = null, finish = null, chunks = 0;
  for await (const chunk of stream) {
    ++chunks;
    assert.equal(chunk.object, 'chat.completion.chunk');
    assertNoTags(chunk, `stream chunk ${chunks}`);
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      const d = c.delta ?? {};
      for (const key of ['role', 'judge', 'reasoning_content', 'content']) if (typeof d[key] === 'string') got[key] += d[key];
      if (d.think_mode) got.think_mode = d.think_mode;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.equal(got.role, 'assistant');
  assert.equal(got.think_mode, 'on');
  assert.equal(got.judge, onMessage.judge);
  assert.equal(got.reasoning_content, onMessage.reasoning_content);
  assert.equal(got.content, onMessage.content);
  assert.ok(finish, 'no finish_reason in the stream');
  assert.ok(usage, 'no usage chunk although stream_options.include_usage');
  assert.deepEqual(usage, onUsage);
});

check('chat non-stream, forced off: no reasoning', async () => {
  const r = await client.chat.completions.create(chatParams('off'));
  const m = r.choices[0].message;
  assert.equal(m.think_mode, 'off');
  assert.equal(m.judge, FORCED_OFF_JUDGE);
  assert.equal(m.reasoning_content, '');
  assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 0);
  assertNoTags(r, 'chat forced off');
});

check('completions with a raw forced-on prompt keep the tags', async () => {
  const prompt = '<|im_start|>user\nWhat is 2 plus 3?<|im_end|>\n<|im_start|>assistant\n' +
                 `<judge>\n${FORCED_ON_JUDGE}\n</judge>\n<think_on>\n<think>\n`;
  const budget = 2;
  const r = await client.completions.create({ model, prompt, max_tokens: 24, temperature: 0, thinking_budget: budget });
  assert.equal(r.object, 'text_completion');
  const c = r.choices[0];
  assert.equal(c.think_mode, 'on');
  // The budget forces "</think>\n<answer>\n" after at most `budget` reasoning tokens, unless the
  // model stopped before that.
  if (r.usage.completion_tokens > budget + 4)
    assert.ok(c.text.includes('</think>\n<answer>\n'), `tags missing from the raw text: ${JSON.stringify(c.text)}`);
  else
    assert.fail(`the model stopped after ${r.usage.completion_tokens} tokens; pick another prompt: ${JSON.stringify(c.text)}`);
  assert.ok(r.usage.completion_tokens_details.reasoning_tokens <= budget);
});

check('a wrong API key is an AuthenticationError', async () => {
  if (!process.argv[3]) return;  // the server runs without a key
  const wrong = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    ++failed;
    console.log(`FAIL ${name}\n     ${String(e?.stack ?? e).split('\n').join('\n     ')}`);
    if (!model) break;  // nothing else can work without the model id
  }
}
console.log(`${checks.length - failed}/${checks.length} checks passed (openai ${VERSION})`);
process.exit(failed ? 1 : 0);
