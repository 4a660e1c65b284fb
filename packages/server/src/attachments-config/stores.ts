/** The configuration stores, built once per server from its database. */
import type { Db } from '../db/index';
import { FileStore } from './file-store';
import { KeyStore } from './key-store';
import { SecretStore } from './secret-store';
import { VariableStore } from './variable-store';

export interface ConfigStores {
  variables: VariableStore;
  secrets: SecretStore;
  files: FileStore;
  keys: KeyStore;
}

/** One set per database: the feature's hook and its methods get the same stores. */
const byDb = new WeakMap<Db, ConfigStores>();

export function configStores(db: Db): ConfigStores {
  let stores = byDb.get(db);
  if (!stores) {
    stores = { variables: new VariableStore(db), secrets: new SecretStore(db), files: new FileStore(db), keys: new KeyStore(db) };
    byDb.set(db, stores);
  }
  return stores;
}
