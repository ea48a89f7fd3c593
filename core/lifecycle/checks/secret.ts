/** The SAS secret (sas-token mode): the Key Vault secret the pipeline names holds a SAS that is valid and allows what the pipeline needs. */
import { AzureRequestError, errorMessage } from '../../errors';
import type { CheckItem } from '../../report';
import { judgeSas, parseSas, sasNeeds } from '../sas';
import { type CheckRun, type Effective, item } from './shared';

const statusOf = (e: unknown): number | undefined => (e instanceof AzureRequestError ? e.status : undefined);

/** The SAS item of a pipeline in sas-token mode; undefined in managed-identity mode. */
export async function sasItem(run: CheckRun, eff: Effective): Promise<CheckItem | undefined> {
  if (eff.mode !== 'sas-token') return undefined;
  const { ctx } = run;
  const { kind } = eff;
  const id = `${kind}-sas`;
  const title = `The ${kind} SAS in Key Vault is valid and allows what the pipeline needs`;
  if (eff.secretUri === undefined) {
    return item(
      id,
      title,
      'fail',
      `the ${kind} pipeline names no Key Vault secret`,
      `give '${kind}-sas-secret-uri' (sas-token mode), or set 'storage-access-mode' to managed-identity`,
    );
  }
  const secretName = new URL(eff.secretUri).pathname.split('/').filter(Boolean)[1] ?? eff.secretUri;
  let value: string;
  try {
    value = (await ctx.services.secrets.getSecret(eff.secretUri)).value;
  } catch (e) {
    const status = statusOf(e);
    if (status === 404)
      return item(
        id,
        title,
        'fail',
        `secret ${eff.secretUri} does not exist`,
        `run setup to create it, or check '${kind}-sas-secret-uri' (vault, name, version)`,
      );
    return item(
      id,
      title,
      'warn',
      `not checked: this identity cannot read secret ${eff.secretUri} (${errorMessage(e)}); the pipeline's own identity reads it`,
      'give the signed-in identity secret get on the vault (Key Vault Secrets User) to let check read it',
    );
  }
  const facts = parseSas(value);
  if (!facts) return item(id, title, 'fail', `secret ${eff.secretUri} holds no SAS token (no sig= parameter)`, `run setup to store a ${kind} SAS in it`);
  const v = judgeSas(facts, sasNeeds(kind, eff.options, eff.sourceTrigger), ctx.clock.now(), { kind, secretName });
  const detail = v.problems.length > 0 ? `${v.problems.join('; ')} (${v.summary})` : `${v.summary}, secret ${secretName}`;
  return item(id, title, v.status, detail, v.fixes.join('; '));
}
