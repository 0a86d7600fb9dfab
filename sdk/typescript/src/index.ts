export { createClient, KalamClient } from './client.js';
export type { ClientOptions, QueryOptions, QueryResponse, QueryResult, FileLocation, DownloadOptions, FileDownload } from './client.js';
export { parseFileRef, storedFileName } from './files.js';
export type { FileRef, FileInput } from './files.js';
export { Auth } from './auth.js';
export type { AuthCredentials, AuthProvider, LoginResponse } from './auth.js';
export { KalamError } from './errors.js';
export { SeqId } from './seq.js';
export { KalamTimestamp, KalamDate, decodeValue } from './values.js';
export type { DataType, SchemaField, Value, DecodeOptions } from './values.js';
export type { LiveOptions, LiveRow } from './live.js';
export type { LiveConnectionOptions } from './connection.js';
export type {
  AckEvent,
  BatchControl,
  BatchEvent,
  ChangeEvent,
  ErrorEvent,
  RawEvent,
  Row,
  SubscribeOptions,
  SubscriptionInfo,
  SubscriptionOptions,
} from './subscription.js';
export { parseJson, stringifyJson } from './json.js';
