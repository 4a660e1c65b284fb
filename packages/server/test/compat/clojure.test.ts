/**
 * The official Clojure SDK (pocketenv-io), configured with POCKETENV_API_URL, POCKETENV_TOKEN
 * (or ~/.pocketenv/token.json) and POCKETENV_PUBLIC_KEY. clj-http sends Content-Type and
 * Accept: application/json on every request. Its API namespace mirrors the Elixir SDK's
 * module call for call: the replay is shared (./elixir-style-sdk.ts).
 */
import { replayElixirStyleSdk } from './elixir-style-sdk';
import { FLAVOURS } from './wire';

replayElixirStyleSdk(FLAVOURS.clojure, 'clj-box', '(pocketenv/create-sandbox "clj-box")');
