/**
 * The official Elixir SDK (hex pocketenv_ex 0.1.8), configured with POCKETENV_API_URL,
 * POCKETENV_TOKEN and POCKETENV_PUBLIC_KEY (or `config :pocketenv_ex, api_url:, token:,
 * public_key:`). Req sends Content-Type: application/json on every request. Its requests are
 * the Clojure SDK's too: the replay is shared (./elixir-style-sdk.ts).
 */
import { replayElixirStyleSdk } from './elixir-style-sdk';
import { FLAVOURS } from './wire';

replayElixirStyleSdk(FLAVOURS.elixir, 'ex-box', 'Pocketenv.create_sandbox("ex-box")');
