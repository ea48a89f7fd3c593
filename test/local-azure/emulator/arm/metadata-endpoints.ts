/**
 * `GET /metadata/endpoints`, ARM's cloud-discovery document: the object form without suffixes before 2019, the
 * array-of-clouds form of 2019-05-01 and 2020-06-01, and from 2022-09-01 one cloud object again (what the Azure SDK for
 * Go reads). The clouds carry `suffixes`: the local cloud names its storage accounts, vaults and registries under
 * LOCAL_DNS_SUFFIX. No token is needed.
 */
import { LOCAL_DNS_SUFFIX } from '../../config';
import { ARM_AUDIENCES, type Emulator } from '../context';
import { sendJson } from '../http';
import type { Handler } from '../router';
import { badRequest, missingApiVersion } from './frame';

export function metadataEndpoints(emu: Emulator): Handler {
  return (req, res) => {
    const version = req.url.searchParams.get('api-version');
    if (!version) throw missingApiVersion();
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(version)) {
      throw badRequest(
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions are '2022-09-01,2020-06-01,2019-05-01,2015-01-01'.`,
      );
    }
    const base = emu.baseUrl;
    if (version < '2019-01-01') {
      sendJson(res, 200, {
        galleryEndpoint: `${base}/gallery/`,
        graphEndpoint: `${base}/graph/`,
        portalEndpoint: `${base}/portal/`,
        authentication: { loginEndpoint: `${base}/`, audiences: [ARM_AUDIENCES[0]] },
      });
      return;
    }
    const cloud = {
      name: 'LocalAzure',
      portal: `${base}/portal`,
      resourceManager: `${base}/`,
      gallery: `${base}/gallery/`,
      graph: `${base}/graph/`,
      graphAudience: `${base}/graph/`,
      microsoftGraphResourceId: `${base}/graph/`,
      authentication: { loginEndpoint: base, audiences: [ARM_AUDIENCES[0]], tenant: 'common', identityProvider: 'AAD' },
      suffixes: { storage: LOCAL_DNS_SUFFIX, keyVaultDns: `vault.${LOCAL_DNS_SUFFIX}`, acrLoginServer: `azurecr.${LOCAL_DNS_SUFFIX}` },
    };
    sendJson(res, 200, version >= '2022-09-01' ? cloud : [cloud]);
  };
}
