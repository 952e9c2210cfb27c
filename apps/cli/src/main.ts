#!/usr/bin/env node
/**
 * `dvd`, the DirektVermittlungDe command line: log in, register an authority and its key,
 * send encrypted documents, open them, talk in threads, export, and receive exports.
 * Encryption and decryption happen on this machine; private keys never leave it.
 */
import { Command, CommanderError, Option } from 'commander';
import { SDK_VERSION } from '@dvd/sdk';
import * as c from './commands';
import { EXIT, exitCodeFor } from './exit-codes';

const program = new Command('dvd')
  .description('DirektVermittlungDe: end-to-end encrypted documents from citizens to authorities')
  .version(SDK_VERSION)
  .option('-p, --profile <name>', 'the profile to use (default: $DVD_PROFILE or the current one)')
  .option('--json', 'print results as JSON (one document per line) for scripts')
  .option('--progress', 'show progress bars even when stderr is not a terminal')
  .option('-q, --quiet', 'no progress or notes on stderr')
  .option('--config-dir <dir>', 'where profiles and reply keys live (default: $DVD_CONFIG_DIR or ~/.config/dvd)')
  .showHelpAfterError()
  .exitOverride();

const g = () => program.opts<c.GlobalOptions>();
const run =
  <A extends unknown[]>(fn: (...args: A) => Promise<unknown>) =>
  async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === 'number') process.exitCode = code;
  };

program
  .command('login')
  .description(
    'save a profile (gateway + how to get tokens); --dev saves citizen, official, admin and platform-admin profiles for the development IdP',
  )
  .option('--gateway <url>', 'the gateway', 'http://127.0.0.1:3000')
  .option('--dev', 'one profile per role against the development IdP')
  .option('--dev-idp <url>', 'the development IdP (mints tokens on every call)')
  .addOption(new Option('--role <role>', 'the role of this profile').choices(['citizen', 'official', 'admin', 'platform-admin']))
  .option('--sub <id>', 'the user id (development IdP)')
  .option('--authority <id>', 'the authority of a staff profile')
  .option('--token <jwt>', 'a fixed bearer token from your IdP (stored with mode 0600)')
  .option('--token-stdin', 'read the bearer token from stdin')
  .action(run((o) => c.login(g(), o)));

program
  .command('profiles')
  .description('list the saved profiles')
  .action(run(() => c.profiles(g())));

const authority = program.command('authority').description('authorities (admins)');
authority
  .command('init <id>')
  .description('register an authority with its first unit and a key pair made here (the private half is written 0600 and never sent)')
  .requiredOption('--name <name>', 'the authority name')
  .requiredOption('--ingest-url <url>', "where exports are delivered (the authority's receiver, e.g. `dvd receive`)")
  .option('--ingest-secret <whsec>', 'the Standard Webhooks secret (default: a new one, written to <id>.whsec)')
  .option('--retention <duration>', 'ISO 8601 retention period', 'P180D')
  .option('--claim-deadline <duration>', 'ISO 8601: a routed document nobody claims within it is reported overdue (server default P3D)')
  .option('--unit <id>', 'the first unit', 'poststelle')
  .option('--unit-name <name>', 'its name', 'Poststelle')
  .addOption(new Option('--alg <alg>', 'key type').choices(['rsa', 'ec']).default('rsa'))
  .option('--key-dir <dir>', 'where to write the key files', '.')
  .action(run((id, o) => c.authorityInit(g(), id, o)));

authority
  .command('set <id>')
  .description("change an authority's settings (admins); only the options given change")
  .option('--name <name>', 'the authority name')
  .option('--ingest-url <url>', 'where exports are delivered')
  .option('--retention <duration>', 'ISO 8601 retention period (documents created from now on)')
  .option('--claim-deadline <duration>', 'ISO 8601: a routed document nobody claims or decides within it is reported overdue, e.g. P3D')
  .option('--default-unit <unitId>', 'where documents go that no rule matches')
  .action(run((id, o) => c.authoritySet(g(), id, o)));

const keys = program.command('keys').description('encryption keys');
keys
  .command('generate')
  .description('make a key pair on this machine (authority key, or --reply for a citizen reply key)')
  .requiredOption('--out <prefix>', 'writes <prefix>.private.jwk (0600) and <prefix>.public.jwk')
  .addOption(new Option('--alg <alg>', 'key type').choices(['rsa', 'ec']).default('rsa'))
  .option('--reply', 'a citizen reply key (EC P-256)')
  .action(run((o) => c.keysGenerate(g(), o)));
keys
  .command('add <authority> <jwkFile>')
  .description('register a public key (a private JWK file is reduced to its public half)')
  .action(run((a, f) => c.keysAdd(g(), a, f)));
keys
  .command('list <authority>')
  .description("the authority's active public keys")
  .action(run((a) => c.keysList(g(), a)));

program
  .command('send <file>')
  .description('encrypt FILE on this machine for the authority and upload it')
  .requiredOption('--to <authority>', 'the authority id')
  .requiredOption('--ref <aktenzeichen>', "the authority's reference number (Aktenzeichen)")
  .requiredOption('--type <documentType>', 'the document type, e.g. BAUANTRAG')
  .option('--service-key <leika>', 'LeiKa service key (14 digits)')
  .option('--region-key <ars>', 'Amtlicher Regionalschlüssel (12 digits)')
  .option('--reply-key <file>', "your reply key's private JWK (default: the profile's, made on first use)")
  .option('--no-reply-key', 'send without a reply key (officials cannot answer in writing)')
  .option('--idempotency-key <key>', 'repeat a send safely (default: a new one)')
  .option('--receipt-out <file>', "save the platform's signed receipt (a compact JWS) to FILE")
  .action(
    run((file, o) =>
      c.send(g(), file, { ...o, noReplyKey: o.replyKey === false, replyKey: typeof o.replyKey === 'string' ? o.replyKey : undefined }),
    ),
  );

program
  .command('inbox')
  .description('documents visible to the profile, newest first')
  .option('--status <status>', 'RECEIVED, ROUTED, ASSIGNED, EXPORTED, ACCEPTED, REJECTED or FORWARDED')
  .option('--unit <unitId>', 'only this unit')
  .option('--overdue', "only overdue documents: routed, and nobody claimed or decided them within the authority's claim deadline")
  .option('--limit <n>', 'page size (1–100)')
  .option('--all', 'every page')
  .action(run((o) => c.inbox(g(), o)));
program
  .command('status <documentId>')
  .description("a document's status")
  .action(run((id) => c.status(g(), id)));
const receipt = program
  .command('receipt')
  .description("a document's signed receipt (a compact JWS): `receipt ID` fetches it, `receipt verify` checks it")
  .argument('<documentId>', 'the document')
  .option('-o, --out <file>', 'write the receipt to FILE')
  .action(run((id, o) => c.receipt(g(), id, o)));
receipt
  .command('verify <fileOrDocumentId>')
  .description("verify a receipt (a file, or a document's) against the platform's receipt keys; exit code 11 if it does not verify")
  .option('--jwks <url>', "the receipt keys (default: the profile's gateway /.well-known/jwks.json)")
  .option('--issuer <url>', 'require this `iss` (the platform)')
  .action(run((target, o) => c.receiptVerify(g(), target, o)));

program
  .command('accept <documentId>')
  .description('accept a document (the official holding a thread of it, or an admin of its authority)')
  .action(run((id) => c.accept(g(), id)));
program
  .command('reject <documentId>')
  .description("reject a document with a reason; --note is encrypted here to the citizen's reply key")
  .requiredOption('--reason <code>', 'NOT_RESPONSIBLE, INCOMPLETE, UNREADABLE, DUPLICATE or OTHER')
  .option('--note <text>', 'a note for the citizen (encrypted on this machine)')
  .action(run((id, o) => c.reject(g(), id, o)));
program
  .command('forward <documentId>')
  .description('forward a document to the responsible authority: decrypted with KEY here, encrypted again for its newest key')
  .requiredOption('--to <authority>', 'the target authority')
  .requiredOption('--key <file>', "this authority's private JWK")
  .action(run((id, o) => c.forward(g(), id, o)));
program
  .command('history <documentId>')
  .description("a document's history: every step, when, and the role that made it")
  .action(run((id) => c.history(g(), id)));
program
  .command('note <documentId>')
  .description("read a rejection's note, decrypted with your reply key (citizen)")
  .option('--key <file>', "the reply key's private JWK (default: the profile's)")
  .action(run((id, o) => c.note(g(), id, o)));

program
  .command('reroute <documentId>')
  .description("route a document again by its authority's current rules (admins; refused once someone has taken it up)")
  .action(run((id) => c.reroute(g(), id)));
program
  .command('open <documentId>')
  .description('download, verify (sha256) and decrypt a document with a private key')
  .requiredOption('--key <file>', "the authority's private JWK")
  .option('-o, --output <file>', 'where to write the file ("-" for stdout; default <id>.bin)')
  .action(run((id, o) => c.open(g(), id, o)));

const thread = program.command('thread').description('threads about a document: chat, callback request, appointment');
thread
  .command('open <documentId>')
  .description('open a thread')
  .addOption(new Option('--type <type>', 'thread type').choices(['CHAT', 'CALLBACK', 'APPOINTMENT']).default('CHAT'))
  .option('--from <time>', 'CALLBACK: call me from (RFC 3339)')
  .option('--to <time>', 'CALLBACK: until')
  .option('--slot <start/end...>', 'APPOINTMENT: a proposed slot START/END (repeatable)')
  .action(run((id, o) => c.threadOpen(g(), id, o)));
thread
  .command('list')
  .description('threads visible to the profile')
  .option('--document <id>', 'of this document')
  .addOption(new Option('--assigned <who>', 'me or none').choices(['me', 'none']))
  .addOption(new Option('--status <status>', 'OPEN or CLOSED').choices(['OPEN', 'CLOSED']))
  .action(run((o) => c.threadList(g(), o)));
for (const action of ['claim', 'release', 'close'] as const) {
  thread
    .command(`${action} <threadId>`)
    .description(`${action} a thread`)
    .action(run((id) => c.threadAction(g(), action, id)));
}
thread
  .command('confirm <threadId>')
  .description('confirm one of the proposed appointment slots (citizen)')
  .requiredOption('--start <time>', 'the start of the proposed slot (RFC 3339)')
  .action(run((id, o) => c.threadConfirm(g(), id, o)));
thread
  .command('messages <threadId>')
  .description('read the messages, decrypted on this machine')
  .option('--key <file>', "a private JWK (officials: the authority's; citizens: default the profile's reply key)")
  .action(run((id, o) => c.threadMessages(g(), id, o)));

const appointment = program
  .command('appointment')
  .description('the appointment of an APPOINTMENT thread (confirm a slot with: dvd thread confirm)');
appointment
  .command('ics <threadId>')
  .description('download the confirmed appointment as a calendar file (.ics, RFC 5545)')
  .option('-o, --output <file>', 'where to write it ("-" for stdout; default termin-<threadId>.ics)')
  .action(run((id, o) => c.appointmentIcs(g(), id, o)));
appointment
  .command('cancel <threadId>')
  .description('cancel the confirmed slot (citizen, the proposing official, the assignee, an admin)')
  .action(run((id) => c.appointmentCancel(g(), id)));

program
  .command('reply <threadId> <text>')
  .description("post a message encrypted to the other side (officials: the citizen's reply key; citizens: the authority's key)")
  .option('--to <jwkFile>', 'encrypt to this public key instead')
  .action(run((id, text, o) => c.reply(g(), id, text, o)));

program
  .command('export <documentId>')
  .description("export the case to the authority's receiver")
  .option('--wait', 'wait until the job COMPLETED or FAILED')
  .option('--timeout <seconds>', 'how long to wait', '120')
  .action(run((id, o) => c.exportDocument(g(), id, o)));

program
  .command('watch')
  .description('print what happens to your documents as it happens, one line per event, until Ctrl-C (the event stream; resumes by itself)')
  .option('--unit <unitId>', 'staff: only the events of this unit')
  .option('--since <eventId>', 'resume after this event id (from an earlier --json run)')
  .action(run((o) => c.watch(g(), o)));

program
  .command('receive')
  .description('the reference export receiver: verify Standard Webhooks deliveries and write each package to OUT/<jobId>/')
  .option('--port <n>', 'port to listen on (0: any)', '4000')
  .option('--host <addr>', 'address to listen on', '127.0.0.1')
  .option('--secret <whsec...>', 'the ingest secret(s)')
  .option('--secret-file <file>', 'read the ingest secret from a file')
  .option('--path <path>', 'accept deliveries only on this path')
  .requiredOption('--out <dir>', 'where packages are written')
  .action(run((o) => c.receive(g(), o)));

async function main() {
  // `npm run dvd -- …` runs in the repository root: paths on the command line are the caller's
  if (process.env.npm_lifecycle_event === 'dvd' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (program.opts().json) process.stderr.write(`${JSON.stringify({ error: message, exitCode: code, ...problemOf(err) })}\n`);
    else process.stderr.write(`dvd: ${message}\n`);
    process.exitCode = code;
  }
}

function problemOf(err: unknown) {
  const p = (err as { problem?: unknown }).problem;
  return p ? { problem: p } : {};
}

void main();
