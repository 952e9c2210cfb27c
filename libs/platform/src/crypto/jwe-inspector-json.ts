import Parser from 'stream-json/Parser';
import { B64URL, fail } from './jwe-inspector-errors';

/**
 * Hard bounds for the JSON serialization (RFC 7516 §7.2). Everything a citizen sends besides
 * the ciphertext is small by nature (headers, wrapped keys, IV, tag); these bounds keep what
 * the scanner holds to a few hundred KiB whatever arrives, and are checked as the tokens
 * stream by, never after the fact.
 */
export const JSON_LIMITS = {
  /** Nesting of the whole document: root › recipients › recipient › header › epk › … */
  maxDepth: 8,
  maxRecipients: 16,
  /** Members of one header object, items of one array inside a header. */
  maxMembers: 64,
  /** Every value inside all header objects together. */
  maxHeaderValues: 1024,
  maxKeyChars: 256,
  /** protected header (base64url) and any string value inside a header. */
  maxStringChars: 16 * 1024,
  maxEncryptedKeyChars: 4096,
  maxNumberChars: 32,
  /** All bytes that are not the ciphertext's characters: members, whitespace, aad. */
  maxNonCiphertextBytes: 1024 * 1024,
} as const;

/** Slices fed to the tokenizer: bounds its input buffer and how far it runs past a refusal. */
const FEED_SLICE = 64 * 1024;

type Json = string | number | boolean | null | JsonObject | Json[];
export interface JsonObject {
  [key: string]: Json;
}

export interface RecipientParts {
  header?: JsonObject;
  encrypted_key?: string;
}

/** What the scanner keeps of a JSON-serialised container: everything but ciphertext and aad. */
export interface JsonContainerParts {
  members: Set<string>;
  protected?: string;
  unprotected?: JsonObject;
  header?: JsonObject;
  encrypted_key?: string;
  recipients?: RecipientParts[];
  iv?: string;
  tag?: string;
  ciphertextChars: number;
}

const TOP_MEMBERS = new Set(['protected', 'unprotected', 'header', 'encrypted_key', 'recipients', 'aad', 'iv', 'ciphertext', 'tag']);
const RECIPIENT_MEMBERS = new Set(['header', 'encrypted_key']);

type Frame =
  | { kind: 'root'; key?: string }
  | { kind: 'recipients' }
  | { kind: 'recipient'; key?: string; seen: Set<string>; parts: RecipientParts }
  | { kind: 'object'; key?: string; value: JsonObject; members: number }
  | { kind: 'array'; value: Json[] };

/** Where the characters of the string being read go. */
type StringSink = 'ciphertext' | 'aad' | 'hold';

interface Token {
  name: string;
  value?: string;
}

/**
 * Scans a JWE in JSON serialization as stream-json parser tokens — no document is ever
 * assembled. Unknown members, wrong types, excess depth/size/count are refused at the token
 * that crosses the line; the ciphertext's characters are checked and counted as they pass
 * and then dropped. The tokenizer is driven synchronously (its Transform hooks called
 * directly, its `push` replaced by our handler) so a refusal stops it mid-slice.
 */
export class JweJsonScanner {
  private readonly parser: Parser;
  private readonly stack: Frame[] = [];
  private readonly parts: JsonContainerParts = { members: new Set(), ciphertextChars: 0 };
  private fed = 0;
  private headerValues = 0;
  private done = false;
  // the key or scalar being read
  private keyText: string | null = null;
  private sink: StringSink | null = null;
  private held = '';
  private holdLimit = 0;
  private numberText: string | null = null;

  constructor() {
    this.parser = new Parser({ packValues: false, streamValues: true });
    this.parser.push = (token: Token) => {
      this.onToken(token);
      return true;
    };
  }

  write(chunk: Buffer): void {
    for (let offset = 0; offset < chunk.length; offset += FEED_SLICE) {
      const slice = chunk.subarray(offset, offset + FEED_SLICE);
      this.fed += slice.length;
      this.parser._transform(slice, 'utf8', (err) => {
        if (err) fail('malformed-jwe', 'The JSON serialization is not valid JSON');
      });
      if (this.fed - this.parts.ciphertextChars > JSON_LIMITS.maxNonCiphertextBytes)
        fail('header-too-large', 'The container members besides the ciphertext are too large');
    }
  }

  end(): JsonContainerParts {
    this.parser._flush((err) => {
      if (err) fail('malformed-jwe', 'The JSON serialization is not valid JSON (or is truncated)');
    });
    if (!this.done) fail('malformed-jwe', 'The JSON serialization is truncated');
    return this.parts;
  }

  // ---- tokens ---------------------------------------------------------------------------

  private onToken(token: Token): void {
    switch (token.name) {
      case 'startKey':
        this.keyText = '';
        return;
      case 'stringChunk':
        return this.onChars(token.value!);
      case 'endKey':
        return this.onKey();
      case 'startString':
        return this.onStartString();
      case 'endString':
        return this.onEndString();
      case 'startNumber':
        this.value('a number');
        this.numberText = '';
        return;
      case 'numberChunk':
        this.numberText += token.value!;
        if (this.numberText!.length > JSON_LIMITS.maxNumberChars) fail('malformed-jwe', 'A number in a header is too long');
        return;
      case 'endNumber':
        this.attach(Number(this.numberText));
        this.numberText = null;
        return;
      case 'trueValue':
      case 'falseValue':
      case 'nullValue':
        this.value('a literal');
        return this.attach(token.name === 'trueValue' ? true : token.name === 'falseValue' ? false : null);
      case 'startObject':
        return this.onStartObject();
      case 'startArray':
        return this.onStartArray();
      case 'endObject':
      case 'endArray':
        return this.onEnd();
      default:
        return;
    }
  }

  private onChars(chars: string): void {
    if (this.keyText !== null) {
      this.keyText += chars;
      if (this.keyText.length > JSON_LIMITS.maxKeyChars) fail('malformed-jwe', 'A member name is too long');
      return;
    }
    if (this.sink === 'ciphertext') {
      if (!B64URL.test(chars)) fail('malformed-jwe', 'The ciphertext is not base64url');
      this.parts.ciphertextChars += chars.length;
    } else if (this.sink === 'aad') {
      if (!B64URL.test(chars)) fail('malformed-jwe', 'The "aad" is not base64url');
    } else {
      if (this.held.length + chars.length > this.holdLimit) fail('header-too-large', 'A container member is too large');
      this.held += chars;
    }
  }

  private onKey(): void {
    const key = this.keyText!;
    this.keyText = null;
    const top = this.top();
    switch (top.kind) {
      case 'root':
        if (!TOP_MEMBERS.has(key)) fail('malformed-jwe', 'The container has a member that a JWE does not have');
        if (this.parts.members.has(key)) fail('malformed-jwe', 'A JWE member appears twice');
        this.parts.members.add(key);
        top.key = key;
        return;
      case 'recipient':
        if (!RECIPIENT_MEMBERS.has(key)) fail('malformed-jwe', 'A recipient has a member that a JWE recipient does not have');
        if (top.seen.has(key)) fail('malformed-jwe', 'A recipient member appears twice');
        top.seen.add(key);
        top.key = key;
        return;
      case 'object':
        if (Object.prototype.hasOwnProperty.call(top.value, key)) fail('malformed-jwe', 'A header parameter appears twice');
        if (++top.members > JSON_LIMITS.maxMembers) fail('header-too-large', 'A header has too many parameters');
        top.key = key;
        return;
      default:
        return; // the tokenizer emits keys only inside objects
    }
  }

  private onStartString(): void {
    const top = this.top();
    const key = 'key' in top ? top.key : undefined;
    this.held = '';
    if (top.kind === 'root') {
      if (key === 'ciphertext' || key === 'aad') {
        this.sink = key;
        return;
      }
      if (key === 'protected' || key === 'iv' || key === 'tag' || key === 'encrypted_key') {
        this.sink = 'hold';
        this.holdLimit = key === 'encrypted_key' ? JSON_LIMITS.maxEncryptedKeyChars : key === 'protected' ? JSON_LIMITS.maxStringChars : 64;
        return;
      }
      fail('malformed-jwe', `The "${key}" member must be an object`);
    }
    if (top.kind === 'recipient') {
      if (key !== 'encrypted_key') fail('malformed-jwe', 'A recipient "header" must be an object');
      this.sink = 'hold';
      this.holdLimit = JSON_LIMITS.maxEncryptedKeyChars;
      return;
    }
    this.value('a string');
    this.sink = 'hold';
    this.holdLimit = JSON_LIMITS.maxStringChars;
  }

  private onEndString(): void {
    const sink = this.sink;
    const text = this.held;
    this.sink = null;
    this.held = '';
    if (sink !== 'hold') return; // ciphertext and aad were checked as they passed
    const top = this.top();
    if (top.kind === 'root') {
      (this.parts as unknown as Record<string, string>)[top.key!] = text;
    } else if (top.kind === 'recipient') {
      top.parts.encrypted_key = text;
    } else {
      this.attach(text);
    }
  }

  private onStartObject(): void {
    if (this.stack.length === 0) {
      this.stack.push({ kind: 'root' });
      return;
    }
    this.deeper();
    const top = this.top();
    if (top.kind === 'recipients') {
      if (this.parts.recipients!.length >= JSON_LIMITS.maxRecipients) fail('header-too-large', 'The container has too many recipients');
      const parts: RecipientParts = {};
      this.parts.recipients!.push(parts);
      this.stack.push({ kind: 'recipient', seen: new Set(), parts });
      return;
    }
    if (top.kind === 'root' && top.key !== 'unprotected' && top.key !== 'header')
      fail('malformed-jwe', `The "${top.key}" member must not be an object`);
    if (top.kind === 'recipient' && top.key !== 'header') fail('malformed-jwe', 'A recipient "encrypted_key" must be a string');
    if (top.kind === 'object' || top.kind === 'array') this.value('an object');
    this.stack.push({ kind: 'object', value: Object.create(null) as JsonObject, members: 0 });
  }

  private onStartArray(): void {
    this.deeper();
    const top = this.top();
    if (top.kind === 'root') {
      if (top.key !== 'recipients') fail('malformed-jwe', `The "${top.key}" member must not be an array`);
      this.parts.recipients = [];
      this.stack.push({ kind: 'recipients' });
      return;
    }
    if (top.kind !== 'object' && top.kind !== 'array') fail('malformed-jwe', 'A recipient must be an object');
    this.value('an array');
    this.stack.push({ kind: 'array', value: [] });
  }

  private onEnd(): void {
    const frame = this.stack.pop()!;
    if (this.stack.length === 0) {
      this.done = true;
      return;
    }
    if (frame.kind === 'object' || frame.kind === 'array') {
      const parent = this.top();
      if (parent.kind === 'root') (this.parts as unknown as Record<string, JsonObject>)[parent.key!] = frame.value as JsonObject;
      else if (parent.kind === 'recipient') parent.parts.header = frame.value as JsonObject;
      else this.attach(frame.value);
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private top(): Frame {
    return this.stack[this.stack.length - 1];
  }

  private deeper(): void {
    if (this.stack.length >= JSON_LIMITS.maxDepth) fail('malformed-jwe', 'The container is nested too deeply');
  }

  /** A value starts inside a header object or array; anywhere else it is the wrong type. */
  private value(what: string): void {
    const top = this.top();
    if (top.kind === 'root') fail('malformed-jwe', `The "${top.key}" member must not be ${what}`);
    if (top.kind === 'recipient') fail('malformed-jwe', `A recipient's "${top.key}" must not be ${what}`);
    if (top.kind !== 'object' && top.kind !== 'array') fail('malformed-jwe', `A recipient must not be ${what}`);
    if (++this.headerValues > JSON_LIMITS.maxHeaderValues) fail('header-too-large', 'The headers hold too many values');
    if (top.kind === 'array' && top.value.length >= JSON_LIMITS.maxMembers) fail('header-too-large', 'An array in a header is too long');
  }

  /** Stores a finished value in the header object or array on top (counted in value()). */
  private attach(v: Json): void {
    const top = this.top();
    if (top.kind === 'object') top.value[top.key!] = v;
    else if (top.kind === 'array') top.value.push(v);
  }
}
