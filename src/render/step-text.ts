/** A step in a few words, for progress lines. */
import type { Step } from '../model.js';
import { nameOfArn } from '../policy/partition.js';

export function stepText(step: Step): string {
  switch (step.op) {
    case 'CreateRole':
      return `creating role ${step.roleName}`;
    case 'UpdateAssumeRolePolicy':
      return `updating the trust policy of ${step.roleName}`;
    case 'PutRolePermissionsBoundary':
      return `setting the permissions boundary of ${step.roleName}`;
    case 'UpdateRole':
      return `setting the description of ${step.roleName}`;
    case 'AttachRolePolicy':
      return `attaching ${nameOfArn(step.policyArn)} to ${step.roleName}`;
    case 'TagRole':
      return `tagging ${step.roleName}`;
    case 'UntagRole':
      return `removing tags of ${step.roleName}`;
    case 'CreateOpenIDConnectProvider':
      return `creating the OIDC provider for ${step.url}`;
    case 'AddClientIDToOpenIDConnectProvider':
      return `adding audience ${step.clientId}`;
    case 'TagOpenIDConnectProvider':
      return 'tagging the OIDC provider';
    case 'CreatePolicy':
      return `creating policy ${step.name}`;
    case 'DeletePolicyVersion':
      return `deleting policy version ${step.versionId}`;
    case 'CreatePolicyVersion':
      return `creating a new default version of ${nameOfArn(step.policyArn)}`;
    case 'TagPolicy':
      return `tagging ${nameOfArn(step.policyArn)}`;
    case 'UntagPolicy':
      return `removing tags of ${nameOfArn(step.policyArn)}`;
    case 'SetDefaultPolicyVersion':
      return `making ${step.versionId} the default version of ${nameOfArn(step.policyArn)}`;
    case 'ModifyVpcAttribute':
      return `turning on ${step.attribute} of ${step.vpcId}`;
    case 'CreatePodIdentityAssociation':
      return `associating ${step.namespace}/${step.serviceAccount} with ${nameOfArn(step.roleArn)}`;
    case 'UpdatePodIdentityAssociation':
      return `pointing association ${step.associationId} at ${nameOfArn(step.roleArn)}`;
    case 'TagResource':
      return `tagging the pod identity association ${step.name}`;
    case 'CreateAddon':
      return `installing the ${step.addonName} add-on`;
    case 'DeletePodIdentityAssociation':
      return `deleting the pod identity association ${step.name}`;
    case 'DetachRolePolicy':
      return `detaching ${nameOfArn(step.policyArn)} from ${step.roleName}`;
    case 'DeleteRole':
      return `deleting role ${step.roleName}`;
    case 'DeletePolicy':
      return `deleting policy ${nameOfArn(step.policyArn)}`;
    case 'DeleteOpenIDConnectProvider':
      return 'deleting the OIDC provider';
  }
}
