// masto.js against a Mastodon API server: a poll and the user stream.
//
//   node masto_polls_streaming.mjs URL TOKEN OTHER_TOKEN
//   (or MASTO_URL, MASTO_TOKEN, MASTO_OTHER_TOKEN in the environment)
//
// TOKEN's account ("author") posts a status with a multiple-choice poll;
// OTHER_TOKEN's account ("voter") votes on it, tries to vote again, and both read
// the poll back. Then the author follows the voter and subscribes to the user
// stream over WebSocket, at the streaming URL the instance advertises in
// /api/v2/instance; the voter posts a status mentioning the author, and the
// author waits for its `update` and `notification` events.
//
// Prints one JSON object on stdout with what each step returned; exits 1 with the
// reason on stderr when a step fails or does not finish in time.
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";

import { createRestAPIClient, createStreamingAPIClient, MastoHttpError } from "masto";

const TOTAL_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 10_000;
const EVENT_TIMEOUT_MS = 15_000;
// The subscribe message has no acknowledgement: the author posts a probe and
// waits this long for it to come back on the stream, then posts another one.
const PROBE_WAIT_MS = 1_500;
const PROBES = 10;

const [url, token, otherToken] = [
  process.argv[2] ?? process.env.MASTO_URL,
  process.argv[3] ?? process.env.MASTO_TOKEN,
  process.argv[4] ?? process.env.MASTO_OTHER_TOKEN,
];
if (!url || !token || !otherToken) {
  console.error("usage: masto_polls_streaming.mjs URL TOKEN OTHER_TOKEN");
  process.exit(2);
}

let step = "start";
const fail = (message) => {
  console.error(`masto.js check failed at step "${step}": ${message}`);
  process.exit(1);
};
const watchdog = setTimeout(
  () => fail(`did not finish within ${TOTAL_TIMEOUT_MS / 1000}s`),
  TOTAL_TIMEOUT_MS,
);
const check = (condition, message) => {
  if (!condition) throw new Error(message);
};

const version = createRequire(import.meta.url)("masto/package.json").version;
const rest = (accessToken) =>
  createRestAPIClient({ url, accessToken, timeout: HTTP_TIMEOUT_MS });
const author = rest(token);
const voter = rest(otherToken);

const pollView = (poll) => ({
  id: poll.id,
  multiple: poll.multiple,
  expired: poll.expired,
  votes_count: poll.votesCount,
  voters_count: poll.votersCount,
  voted: poll.voted,
  own_votes: poll.ownVotes,
  options: poll.options.map((o) => ({ title: o.title, votes_count: o.votesCount })),
});

async function polls(authorAccount) {
  step = "post a status with a poll";
  const posted = await author.v1.statuses.create({
    status: "masto.js asks: which way?",
    poll: { options: ["left", "right", "straight on"], expiresIn: 600, multiple: true },
  });
  check(posted.poll, "the posted status has no poll");
  check(posted.account.id === authorAccount.id, "the status is not the author's");

  step = "vote";
  const voted = await voter.v1.polls.$select(posted.poll.id).votes.create({ choices: [0, 2] });

  step = "vote again";
  let again;
  try {
    await voter.v1.polls.$select(posted.poll.id).votes.create({ choices: [1] });
    again = { status: 200 };
  } catch (error) {
    if (!(error instanceof MastoHttpError)) throw error;
    again = { status: error.statusCode, error: error.message };
  }

  step = "read the poll back";
  const asVoter = await voter.v1.polls.$select(posted.poll.id).fetch();
  const asAuthor = await author.v1.polls.$select(posted.poll.id).fetch();
  const status = await author.v1.statuses.$select(posted.id).fetch();
  return {
    status_id: posted.id,
    posted: pollView(posted.poll),
    vote: pollView(voted),
    vote_again: again,
    as_voter: pollView(asVoter),
    as_author: pollView(asAuthor),
    in_status: pollView(status.poll),
  };
}

async function streaming(authorAccount, voterAccount) {
  step = "read the streaming URL from /api/v2/instance";
  const instance = await author.v2.instance.fetch();
  const streamingApiUrl = instance.configuration?.urls?.streaming;
  check(
    typeof streamingApiUrl === "string" && /^wss?:\/\//.test(streamingApiUrl),
    `configuration.urls.streaming is ${JSON.stringify(streamingApiUrl)}`,
  );

  step = "follow the voter";
  const relationship = await author.v1.accounts.$select(voterAccount.id).follow();
  check(relationship.following, "the author does not follow the voter");

  step = "connect to the streaming API";
  const stream = createStreamingAPIClient({ streamingApiUrl, accessToken: token, retry: 3 });
  try {
    const subscription = stream.user.subscribe();
    const events = subscription[Symbol.asyncIterator]();
    const seen = [];
    // The next event, asked for once and raced against each wait. A failure of
    // the stream surfaces in the wait that races it; the one still asked for
    // when the stream is closed at the end is ignored.
    const ask = () => {
      const next = events.next();
      next.catch(() => {});
      return next;
    };
    // Starts the subscription: the connection opens, then the subscribe message goes.
    let pending = ask();
    const take = async (ms) => {
      const timer = sleep(ms).then(() => undefined);
      const got = await Promise.race([pending, timer]);
      if (got === undefined) return null;
      if (got.done) throw new Error("the stream ended");
      pending = ask();
      seen.push({ event: got.value.event, stream: got.value.stream });
      return got.value;
    };

    step = "wait until the subscription is live";
    // Any probe coming back will do: a late one shows the subscription is live too.
    const probeIds = new Set();
    let live = false;
    while (!live && probeIds.size < PROBES) {
      const probe = await author.v1.statuses.create({
        status: `stream probe ${probeIds.size + 1}`,
      });
      probeIds.add(probe.id);
      const deadline = Date.now() + PROBE_WAIT_MS;
      while (!live && Date.now() < deadline) {
        const event = await take(deadline - Date.now());
        live = event?.event === "update" && probeIds.has(event.payload.id);
      }
    }
    const probes = probeIds.size;
    check(live, `none of ${probes} probe posts came back on the user stream`);

    step = "the voter posts a mention";
    const mention = await voter.v1.statuses.create({
      status: `@${authorAccount.acct} hello over the stream`,
    });

    step = "wait for the update and the notification";
    let update = null;
    let notification = null;
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    while ((!update || !notification) && Date.now() < deadline) {
      const event = await take(deadline - Date.now());
      if (event?.event === "update" && event.payload.id === mention.id) update = event;
      if (event?.event === "notification" && event.payload.status?.id === mention.id) {
        notification = event;
      }
    }
    check(
      update && notification,
      `within ${EVENT_TIMEOUT_MS / 1000}s: update ${update ? "arrived" : "missing"}, ` +
        `notification ${notification ? "arrived" : "missing"}; events seen: ` +
        JSON.stringify(seen),
    );
    subscription.unsubscribe();
    return {
      streaming_url: streamingApiUrl,
      probes,
      status_id: mention.id,
      update: {
        stream: update.stream,
        id: update.payload.id,
        account_id: update.payload.account.id,
        mentions: update.payload.mentions.map((m) => m.id),
      },
      notification: {
        stream: notification.stream,
        type: notification.payload.type,
        account_id: notification.payload.account.id,
        status_id: notification.payload.status.id,
      },
    };
  } finally {
    stream.close();
  }
}

try {
  step = "verify credentials";
  const authorAccount = await author.v1.accounts.verifyCredentials();
  const voterAccount = await voter.v1.accounts.verifyCredentials();
  const result = {
    masto: version,
    author_id: authorAccount.id,
    voter_id: voterAccount.id,
    poll: await polls(authorAccount),
    streaming: await streaming(authorAccount, voterAccount),
  };
  console.log(JSON.stringify(result));
  clearTimeout(watchdog);
  process.exit(0);
} catch (error) {
  const detail =
    error instanceof MastoHttpError ? `HTTP ${error.statusCode}: ${error.message}` : String(error);
  fail(error?.stack && !(error instanceof MastoHttpError) ? `${detail}\n${error.stack}` : detail);
}
