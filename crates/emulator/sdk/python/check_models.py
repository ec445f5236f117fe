"""Loads every answer the emulator gives into IBM's own Python SDK models.

Run by `crates/emulator/tests/sdk.rs` (in a venv it makes, from `requirements.txt`), with
one JSON argument: the emulator's base URL and the IDs of the emulated world to call with. Each
call goes through the SDK's service class (its URL, query and body building, the IAM
authenticator against the emulator's `/identity/token`), and each answer is loaded with the
model the SDK documents for it (`Model.from_dict`, which refuses an answer without a required
member). It prints one JSON report on stdout, one entry per call, and exits 1 when any failed.
"""

import json
import sys
import traceback
from urllib.parse import parse_qs, urlparse

from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import (
    EnterpriseManagementV1,
    IamAccessGroupsV2,
    IamIdentityV1,
    IamPolicyManagementV1,
    ResourceManagerV2,
    UserManagementV1,
)
from ibm_platform_services import enterprise_management_v1 as enterprise
from ibm_platform_services import iam_access_groups_v2 as groups
from ibm_platform_services import iam_identity_v1 as identity
from ibm_platform_services import iam_policy_management_v1 as policies
from ibm_platform_services import resource_manager_v2 as resource_manager
from ibm_platform_services import user_management_v1 as users


def main() -> int:
    w = json.loads(sys.argv[1])
    base = w["base_url"]
    auth = IAMAuthenticator(apikey=w["api_key"], url=base)

    def service(cls, path=""):
        s = cls(authenticator=auth)
        s.set_service_url(base + path)
        return s

    iam = service(IamIdentityV1)
    access = service(IamPolicyManagementV1)
    ag = service(IamAccessGroupsV2)
    rm = service(ResourceManagerV2)
    um = service(UserManagementV1)
    # Enterprise Management's service URL carries its version (`https://enterprise.cloud.ibm.com/v1`).
    em = service(EnterpriseManagementV1, "/v1")
    account = w["account_id"]
    report = []

    def check(call, model, run, status=None, listed=False):
        """`run()` makes the call; `model` loads its answer (None: the answer has no body and
        `status` is the code IBM documents). `listed`: the entry reports the id and name of each
        of the answer's `resources` and its `next_url`."""
        entry = {"call": call, "model": model.__name__ if model else None}
        try:
            response = run()
            code = response.get_status_code()
            entry["status"] = code
            if model is None:
                if code != status:
                    raise ValueError(f"answered {code}, IBM documents {status}")
            else:
                loaded = model.from_dict(response.get_result())
                # The model's own form of it must load again: nothing it requires was lost.
                model.from_dict(loaded.to_dict())
                if listed:
                    entry["listed"] = [{"id": r.id, "name": r.name} for r in loaded.resources or []]
                    entry["next_url"] = loaded.next_url
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            entry["ok"] = False
            entry["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
        report.append(entry)

    def pager_check(call, model, pager):
        """Runs a pager to its end; each element must load into `model`. The entry reports the
        size of each page and the id and name of each element."""
        entry = {"call": call, "model": model.__name__}
        try:
            pages, listed = [], []
            while pager.has_next():
                if len(pages) == 100:
                    raise ValueError("the pager did not end after 100 pages")
                page = pager.get_next()
                pages.append(len(page))
                for element in page:
                    loaded = model.from_dict(element)
                    model.from_dict(loaded.to_dict())
                    listed.append({"id": loaded.id, "name": loaded.name})
            entry["pages"] = pages
            entry["listed"] = listed
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            entry["ok"] = False
            entry["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
        report.append(entry)

    def query(url, name):
        """A query parameter of a next-page URL (the SDKs take the token, not the URL)."""
        if not url:
            raise ValueError("the answer has no next page")
        return parse_qs(urlparse(url).query)[name][0]

    # IAM Identity: the keys (page by page, as the tool reads them), their details and activity,
    # service IDs, settings and limits.
    check("list_api_keys", identity.ApiKeyList,
          lambda: iam.list_api_keys(account_id=account, iam_id=w["owner_iam_id"], include_history=False))
    check("list_api_keys (scope account)", identity.ApiKeyList,
          lambda: iam.list_api_keys(account_id=account, scope="account", pagesize=5))
    check("list_api_keys (next page)", identity.ApiKeyList, lambda: iam.list_api_keys(
        account_id=account, scope="account", pagesize=5,
        pagetoken=query(iam.list_api_keys(account_id=account, scope="account", pagesize=5).get_result().get("next"),
                        "pagetoken")))
    check("get_api_key (include_activity)", identity.ApiKey,
          lambda: iam.get_api_key(w["cluster_key_id"], include_activity=True))
    check("get_api_keys_details", identity.ApiKey, lambda: iam.get_api_keys_details(iam_api_key=w["api_key"]))
    check("create_api_key", identity.ApiKey,
          lambda: iam.create_api_key("sdk-check", w["owner_iam_id"], account_id=account, description="SDK check"))
    def create_with_life():
        """A key with an expiry and a leak action: the SDK sends both under IBM's names, and its
        model reads back what the emulator keeps."""
        r = iam.create_api_key("sdk-check-life", w["owner_iam_id"], account_id=account,
                               expires_at=w["expires_at"], action_when_leaked="delete")
        key = identity.ApiKey.from_dict(r.get_result())
        if key.expires_at != w["expires_at"] or key.action_when_leaked != "delete":
            raise ValueError(f"the key's life was not kept: {key.expires_at!r}, {key.action_when_leaked!r}")
        return r

    check("create_api_key (expires_at, action_when_leaked)", identity.ApiKey, create_with_life)
    check("lock_api_key", None, lambda: iam.lock_api_key(w["spare_key_id"]), 204)
    check("unlock_api_key", None, lambda: iam.unlock_api_key(w["spare_key_id"]), 204)
    check("disable_api_key", None, lambda: iam.disable_api_key(w["spare_key_id"]), 204)
    check("enable_api_key", None, lambda: iam.enable_api_key(w["spare_key_id"]), 204)
    check("delete_api_key", None, lambda: iam.delete_api_key(w["spare_key_id"]), 204)
    check("get_service_id", identity.ServiceId, lambda: iam.get_service_id(w["service_id"]))
    check("list_service_ids", identity.ServiceIdList, lambda: iam.list_service_ids(account_id=account))
    check("get_account_settings", identity.AccountSettingsResponse, lambda: iam.get_account_settings(account))
    check("get_account_limits", identity.IdentityLimitsUsageResponse, lambda: iam.get_account_limits(account, apikeys_per_identity=w["owner_iam_id"]))

    # IAM Policy Management: a subject's and an access group's policies, created in both versions.
    check("list_policies (iam_id)", policies.PolicyCollection,
          lambda: access.list_policies(account, iam_id=w["functional_iam_id"]))
    check("list_policies (access_group_id)", policies.PolicyCollection,
          lambda: access.list_policies(account, access_group_id=w["access_group_id"]))
    check("list_v2_policies", policies.V2PolicyCollection,
          lambda: access.list_v2_policies(account, iam_id=w["functional_iam_id"]))
    check("create_policy", policies.Policy, lambda: access.create_policy(
        "access",
        [policies.PolicySubject(attributes=[policies.SubjectAttribute(name="iam_id", value=w["new_iam_id"])])],
        [policies.PolicyRole(role_id="crn:v1:bluemix:public:iam::::role:Viewer")],
        [policies.PolicyResource(attributes=[
            policies.ResourceAttribute(name="accountId", value=account),
            policies.ResourceAttribute(name="resourceType", value="resource-group"),
            policies.ResourceAttribute(name="resource", value=w["resource_group_id"]),
        ])],
    ))
    check("create_v2_policy", policies.V2Policy, lambda: access.create_v2_policy(
        policies.Control(grant=policies.Grant(
            roles=[policies.Roles(role_id="crn:v1:bluemix:public:iam::::role:Viewer")])),
        "access",
        subject=policies.V2PolicySubject(attributes=[
            policies.V2PolicySubjectAttribute(key="iam_id", operator="stringEquals", value=w["new_iam_id"])]),
        resource=policies.V2PolicyResource(attributes=[
            policies.V2PolicyResourceAttribute(key="accountId", operator="stringEquals", value=account),
            policies.V2PolicyResourceAttribute(key="serviceName", operator="stringEquals",
                                               value="containers-kubernetes"),
        ]),
    ))

    # IAM Access Groups: a member's groups, one group, its members, one membership.
    check("list_access_groups (iam_id)", groups.GroupsList,
          lambda: ag.list_access_groups(account, iam_id=w["group_member_iam_id"]))
    check("get_access_group", groups.Group, lambda: ag.get_access_group(w["access_group_id"]))
    check("list_access_group_members", groups.GroupMembersList,
          lambda: ag.list_access_group_members(w["access_group_id"]))
    check("is_member_of_access_group", None,
          lambda: ag.is_member_of_access_group(w["access_group_id"], w["group_member_iam_id"]), 204)

    # Resource Manager.
    check("list_resource_groups", resource_manager.ResourceGroupList,
          lambda: rm.list_resource_groups(account_id=account))
    check("get_resource_group", resource_manager.ResourceGroup,
          lambda: rm.get_resource_group(w["resource_group_id"]))

    # User Management: the account's users, one user, an invitation.
    check("list_users", users.UserList, lambda: um.list_users(account))
    check("list_users (next page)", users.UserList, lambda: um.list_users(
        account, limit=2, start=query(um.list_users(account, limit=2).get_result().get("next_url"), "_start")))
    check("get_user_profile", users.UserProfile, lambda: um.get_user_profile(account, w["functional_iam_id"]))
    check("invite_users", users.InvitedUserList, lambda: um.invite_users(
        account,
        users=[users.InviteUser(email=w["invite_email"], account_role="Member")],
        iam_policy=[users.InviteUserIamPolicy(
            type="access",
            roles=[users.Role(role_id="crn:v1:bluemix:public:iam::::role:Viewer")],
            resources=[users.Resource(attributes=[
                users.Attribute(name="accountId", value=account),
                users.Attribute(name="resourceType", value="resource-group"),
                users.Attribute(name="resource", value=w["resource_group_id"]),
            ])],
        )],
    ))

    # Enterprise Management: the enterprise's accounts, in one page and through the SDK's pager
    # with a page of one, which follows `next_url`'s `next_docid` to the end. The accounts listed
    # are reported, for the test to compare with the world's.
    check("list_accounts (enterprise_id)", enterprise.ListAccountsResponse,
          lambda: em.list_accounts(enterprise_id=w["enterprise_id"]), listed=True)
    pager_check("AccountsPager (limit 1)", enterprise.Account,
                enterprise.AccountsPager(client=em, enterprise_id=w["enterprise_id"], limit=1))

    json.dump(report, sys.stdout, indent=2)
    print()
    return 0 if all(e["ok"] for e in report) else 1


if __name__ == "__main__":
    sys.exit(main())
