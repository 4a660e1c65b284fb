/** Wire views of the stored rows. Sealed columns never appear here. */
import type { FileDefs, SecretDefs, VariableDefs } from '@pocketenv/lexicons';
import type { FileRow } from './file-store';
import type { SecretRow } from './secret-store';
import type { VariableRow } from './variable-store';

export function variableView(r: VariableRow): VariableDefs.VariableView {
  return { id: r.id, sandboxId: r.sandbox_id, name: r.name, value: r.value, createdAt: r.created_at, updatedAt: r.updated_at };
}

export function secretView(r: SecretRow): SecretDefs.SecretView {
  return { id: r.id, sandboxId: r.sandbox_id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at };
}

export function fileView(r: FileRow): FileDefs.FileView {
  return { id: r.id, sandboxId: r.sandbox_id, path: r.path, createdAt: r.created_at, updatedAt: r.updated_at };
}
