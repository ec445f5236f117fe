// Checks every answer the emulator gives against IBM's own Node SDK models.
//
// Run by `crates/emulator/tests/sdk.rs` (after `npm install` of `package.json` in a folder of its
// own), with one JSON argument: the emulator's base URL and the IDs of the emulated world to call
// with. Each call goes through the SDK's service class (its URL, query and body building, and its
// IAM authenticator against the emulator's `/identity/token`). The Node SDK's models are
// TypeScript interfaces with no check at run time, so each answer is checked against the
// interface the SDK's `.d.ts` names for it: every member it does not mark optional (`?`) must be
// there, in nested models and in each element of a list too. Prints one JSON report on stdout,
// one entry per call, in the order and with the names of the Python suite; exits 1 when any failed.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const IamIdentityV1 = require('@ibm-cloud/platform-services/iam-identity/v1');
const IamPolicyManagementV1 = require('@ibm-cloud/platform-services/iam-policy-management/v1');
const IamAccessGroupsV2 = require('@ibm-cloud/platform-services/iam-access-groups/v2');
const ResourceManagerV2 = require('@ibm-cloud/platform-services/resource-manager/v2');
const UserManagementV1 = require('@ibm-cloud/platform-services/user-management/v1');
const EnterpriseManagementV1 = require('@ibm-cloud/platform-services/enterprise-management/v1');
const { IamAuthenticator } = require('@ibm-cloud/platform-services/auth');

const root = dirname(require.resolve('@ibm-cloud/platform-services/package.json'));

/** The interfaces of one service's `.d.ts`: name to {members: [[name, optional, type]], parents}. */
function interfaces(file) {
  const out = new Map();
  let current = null;
  for (const line of readFileSync(join(root, file), 'utf8').split('\n')) {
    const head = line.match(/^ {4}(?:export )?interface (\w+)(?: extends ([\w., ]+))? \{$/);
    if (head) {
      current = { members: [], parents: head[2] ? head[2].split(',').map((p) => p.trim()) : [] };
      out.set(head[1], current);
      continue;
    }
    if (current && /^ {4}\}$/.test(line)) {
      current = null;
      continue;
    }
    const member = current && line.match(/^ {8}(\w+)(\?)?: (.+);$/);
    if (member) current.members.push([member[1], member[2] === '?', member[3]]);
  }
  return out;
}

/** What `value` lacks of interface `name` (paths of required members missing). */
function missing(models, name, value, path = name) {
  const model = models.get(name);
  if (!model || value === null || typeof value !== 'object') return [];
  const members = [...model.members];
  for (const parent of model.parents) members.push(...(models.get(parent)?.members ?? []));
  const lacks = [];
  for (const [member, optional, type] of members) {
    const v = value[member];
    if (v === undefined || v === null) {
      if (!optional) lacks.push(`${path}.${member}`);
      continue;
    }
    const inner = type.replace(/\[\]$/, '');
    if (!models.has(inner)) continue;
    if (type.endsWith('[]') && Array.isArray(v)) {
      v.forEach((e, i) => lacks.push(...missing(models, inner, e, `${path}.${member}[${i}]`)));
    } else {
      lacks.push(...missing(models, inner, v, `${path}.${member}`));
    }
  }
  return lacks;
}

const w = JSON.parse(process.argv[2]);
const authenticator = new IamAuthenticator({ apikey: w.api_key, url: w.base_url });
const options = { authenticator, serviceUrl: w.base_url };
const iam = new IamIdentityV1(options);
const access = new IamPolicyManagementV1(options);
const ag = new IamAccessGroupsV2(options);
const rm = new ResourceManagerV2(options);
const um = new UserManagementV1(options);
// Enterprise Management's service URL carries its version (`https://enterprise.cloud.ibm.com/v1`).
const em = new EnterpriseManagementV1({ authenticator, serviceUrl: `${w.base_url}/v1` });
const models = {
  identity: interfaces('iam-identity/v1.d.ts'),
  policies: interfaces('iam-policy-management/v1.d.ts'),
  groups: interfaces('iam-access-groups/v2.d.ts'),
  rm: interfaces('resource-manager/v2.d.ts'),
  users: interfaces('user-management/v1.d.ts'),
  enterprise: interfaces('enterprise-management/v1.d.ts'),
};
const account = w.account_id;
const report = [];

// `model`: [service's interfaces, interface name], or null for an answer without a body whose
// status IBM documents (`status`). `listed`: the entry reports the id and name of each of the
// answer's `resources` and its `next_url`.
async function check(call, model, run, status, listed = false) {
  const entry = { call, model: model ? model[1] : null };
  try {
    const response = await run();
    entry.status = response.status;
    if (!model) {
      if (response.status !== status) throw new Error(`answered ${response.status}, IBM documents ${status}`);
    } else {
      if (!model[0].has(model[1])) throw new Error(`the SDK has no model ${model[1]}`);
      const lacks = missing(model[0], model[1], response.result);
      if (lacks.length) throw new Error(`required members missing: ${lacks.join(', ')}`);
      if (listed) {
        entry.listed = (response.result.resources ?? []).map((r) => ({ id: r.id, name: r.name }));
        entry.next_url = response.result.next_url ?? null;
      }
    }
    entry.ok = true;
  } catch (e) {
    entry.ok = false;
    entry.error = String(e.message ?? e);
  }
  report.push(entry);
}

const viewer = (kind) => [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer', ...kind }];
const groupResource = [
  { name: 'accountId', value: account },
  { name: 'resourceType', value: 'resource-group' },
  { name: 'resource', value: w.resource_group_id },
];

// Runs a pager to its end; each element must fit `model`. The entry reports the size of each
// page and the id and name of each element.
async function pagerCheck(call, model, pager) {
  const entry = { call, model: model[1] };
  try {
    if (!model[0].has(model[1])) throw new Error(`the SDK has no model ${model[1]}`);
    const pages = [];
    const listed = [];
    while (pager.hasNext()) {
      if (pages.length === 100) throw new Error('the pager did not end after 100 pages');
      const page = await pager.getNext();
      pages.push(page.length);
      page.forEach((element) => {
        const lacks = missing(model[0], model[1], element, `${model[1]}[${listed.length}]`);
        if (lacks.length) throw new Error(`required members missing: ${lacks.join(', ')}`);
        listed.push({ id: element.id, name: element.name });
      });
    }
    entry.pages = pages;
    entry.listed = listed;
    entry.ok = true;
  } catch (e) {
    entry.ok = false;
    entry.error = String(e.message ?? e);
  }
  report.push(entry);
}

// A query parameter of a next-page URL (the SDKs take the token, not the URL). User
// Management's `next_url` is a path, as IBM's is; IAM Identity's `next` a whole URL.
function query(url, name) {
  if (!url) throw new Error('the answer has no next page');
  return new URL(url, 'http://relative.invalid').searchParams.get(name);
}

// IAM Identity: the keys (page by page, as the tool reads them), their details and activity,
// service IDs, settings and limits.
await check('list_api_keys', [models.identity, 'ApiKeyList'],
  () => iam.listApiKeys({ accountId: account, iamId: w.owner_iam_id, includeHistory: false }));
const keysPage = { accountId: account, scope: 'account', pagesize: 5 };
await check('list_api_keys (scope account)', [models.identity, 'ApiKeyList'], () => iam.listApiKeys(keysPage));
await check('list_api_keys (next page)', [models.identity, 'ApiKeyList'], async () => {
  const first = await iam.listApiKeys(keysPage);
  return iam.listApiKeys({ ...keysPage, pagetoken: query(first.result.next, 'pagetoken') });
});
await check('get_api_key (include_activity)', [models.identity, 'ApiKey'],
  () => iam.getApiKey({ id: w.cluster_key_id, includeActivity: true }));
await check('get_api_keys_details', [models.identity, 'ApiKey'], () => iam.getApiKeysDetails({ iamApiKey: w.api_key }));
await check('create_api_key', [models.identity, 'ApiKey'],
  () => iam.createApiKey({ name: 'sdk-check', iamId: w.owner_iam_id, accountId: account, description: 'SDK check' }));
// A key with an expiry and a leak action: the SDK sends both under IBM's names, and the answer
// carries back what the emulator keeps.
await check('create_api_key (expires_at, action_when_leaked)', [models.identity, 'ApiKey'], async () => {
  const r = await iam.createApiKey({
    name: 'sdk-check-life', iamId: w.owner_iam_id, accountId: account,
    expiresAt: w.expires_at, actionWhenLeaked: 'delete',
  });
  if (r.result.expires_at !== w.expires_at || r.result.action_when_leaked !== 'delete') {
    throw new Error(`the key's life was not kept: ${r.result.expires_at}, ${r.result.action_when_leaked}`);
  }
  return r;
});
await check('lock_api_key', null, () => iam.lockApiKey({ id: w.spare_key_id }), 204);
await check('unlock_api_key', null, () => iam.unlockApiKey({ id: w.spare_key_id }), 204);
await check('disable_api_key', null, () => iam.disableApiKey({ id: w.spare_key_id }), 204);
await check('enable_api_key', null, () => iam.enableApiKey({ id: w.spare_key_id }), 204);
await check('delete_api_key', null, () => iam.deleteApiKey({ id: w.spare_key_id }), 204);
await check('get_service_id', [models.identity, 'ServiceId'], () => iam.getServiceId({ id: w.service_id }));
await check('list_service_ids', [models.identity, 'ServiceIdList'], () => iam.listServiceIds({ accountId: account }));
await check('get_account_settings', [models.identity, 'AccountSettingsResponse'],
  () => iam.getAccountSettings({ accountId: account }));
await check('get_account_limits', [models.identity, 'IdentityLimitsUsageResponse'],
  () => iam.getAccountLimits({ accountId: account, apikeysPerIdentity: w.owner_iam_id }));

// IAM Policy Management: a subject's and an access group's policies, created in both versions.
await check('list_policies (iam_id)', [models.policies, 'PolicyCollection'],
  () => access.listPolicies({ accountId: account, iamId: w.functional_iam_id }));
await check('list_policies (access_group_id)', [models.policies, 'PolicyCollection'],
  () => access.listPolicies({ accountId: account, accessGroupId: w.access_group_id }));
await check('list_v2_policies', [models.policies, 'V2PolicyCollection'],
  () => access.listV2Policies({ accountId: account, iamId: w.functional_iam_id }));
await check('create_policy', [models.policies, 'Policy'], () => access.createPolicy({
  type: 'access',
  subjects: [{ attributes: [{ name: 'iam_id', value: w.new_iam_id }] }],
  roles: viewer({}),
  resources: [{ attributes: groupResource }],
}));
await check('create_v2_policy', [models.policies, 'V2Policy'], () => access.createV2Policy({
  control: { grant: { roles: viewer({}) } },
  type: 'access',
  subject: { attributes: [{ key: 'iam_id', operator: 'stringEquals', value: w.new_iam_id }] },
  resource: {
    attributes: [
      { key: 'accountId', operator: 'stringEquals', value: account },
      { key: 'serviceName', operator: 'stringEquals', value: 'containers-kubernetes' },
    ],
  },
}));

// IAM Access Groups: a member's groups, one group, its members, one membership.
await check('list_access_groups (iam_id)', [models.groups, 'GroupsList'],
  () => ag.listAccessGroups({ accountId: account, iamId: w.group_member_iam_id }));
await check('get_access_group', [models.groups, 'Group'], () => ag.getAccessGroup({ accessGroupId: w.access_group_id }));
await check('list_access_group_members', [models.groups, 'GroupMembersList'],
  () => ag.listAccessGroupMembers({ accessGroupId: w.access_group_id }));
await check('is_member_of_access_group', null,
  () => ag.isMemberOfAccessGroup({ accessGroupId: w.access_group_id, iamId: w.group_member_iam_id }), 204);

// Resource Manager.
await check('list_resource_groups', [models.rm, 'ResourceGroupList'], () => rm.listResourceGroups({ accountId: account }));
await check('get_resource_group', [models.rm, 'ResourceGroup'], () => rm.getResourceGroup({ id: w.resource_group_id }));

// User Management: the account's users, one user, an invitation.
await check('list_users', [models.users, 'UserList'], () => um.listUsers({ accountId: account }));
await check('list_users (next page)', [models.users, 'UserList'], async () => {
  const first = await um.listUsers({ accountId: account, limit: 2 });
  return um.listUsers({ accountId: account, limit: 2, start: query(first.result.next_url, '_start') });
});
await check('get_user_profile', [models.users, 'UserProfile'],
  () => um.getUserProfile({ accountId: account, iamId: w.functional_iam_id }));
await check('invite_users', [models.users, 'InvitedUserList'], () => um.inviteUsers({
  accountId: account,
  users: [{ email: w.invite_email, account_role: 'Member' }],
  iamPolicy: [{ type: 'access', roles: viewer({}), resources: [{ attributes: groupResource }] }],
}));

// Enterprise Management: the enterprise's accounts, in one page and through the SDK's pager with
// a page of one, which follows `next_url`'s `next_docid` to the end. The accounts listed are
// reported, for the test to compare with the world's.
await check('list_accounts (enterprise_id)', [models.enterprise, 'ListAccountsResponse'],
  () => em.listAccounts({ enterpriseId: w.enterprise_id }), undefined, true);
await pagerCheck('AccountsPager (limit 1)', [models.enterprise, 'Account'],
  new EnterpriseManagementV1.AccountsPager(em, { enterpriseId: w.enterprise_id, limit: 1 }));

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.every((e) => e.ok) ? 0 : 1);
