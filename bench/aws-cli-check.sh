#!/usr/bin/env bash
# The comparison for a re-run with nothing to change: the reads flyte-aws-setup makes to find that everything is in
# place (who am I, the cluster's issuer and VPC, the VPC's DNS settings, each role with its attached policies, the OIDC provider, the policy and its
# default version), made with the aws CLI one after another. Each `aws` call is a new process.
#
# Environment: as for aws-cli-setup.sh.
set -euo pipefail

cluster=${CLUSTER:?set CLUSTER}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:?set AWS_REGION}}

aws() {
  if [[ -n ${AWS_CLI_CALL_LOG:-} ]]; then echo "$1 $2" >>"$AWS_CLI_CALL_LOG"; fi
  command aws "$@"
}

account=$(aws sts get-caller-identity --query Account --output text)
read -r issuer vpc < <(aws eks describe-cluster --region "$region" --name "$cluster" \
  --query "[cluster.identity.oidc.issuer, cluster.resourcesVpcConfig.vpcId]" --output text)
for attribute in enableDnsSupport enableDnsHostnames; do
  [[ $(aws ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute "$attribute" --query "${attribute^}.Value" --output text) == True ]]
done
for role in flyte-eks-cluster-role flyte-eks-node-role flyte-system-role flyte-workers-role flyte-fraud-role; do
  aws iam get-role --role-name "$role" >/dev/null
  aws iam list-attached-role-policies --role-name "$role" >/dev/null
done
aws iam get-open-id-connect-provider \
  --open-id-connect-provider-arn "arn:aws:iam::$account:oidc-provider/${issuer#https://}" >/dev/null
policy_arn="arn:aws:iam::$account:policy/flyte-custom-policy"
version=$(aws iam get-policy --policy-arn "$policy_arn" --query Policy.DefaultVersionId --output text)
aws iam get-policy-version --policy-arn "$policy_arn" --version-id "$version" >/dev/null
