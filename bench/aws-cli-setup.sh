#!/usr/bin/env bash
# The comparison for `npm run bench`: the documents' setup done with the aws CLI, one command after another, as a
# person or a shell script following the guides would do it. Each `aws` call is a new process. eksctl is replaced by
# the aws CLI calls it makes (create-open-id-connect-provider; create-role and attach-role-policy for
# `eksctl create iamserviceaccount --role-only`), and the console steps by their aws CLI equivalents. The defects
# the seeds' README lists are not copied (both condition keys come from the cluster's issuer; aud stays under
# StringEquals), and the resources get the tags flyte-aws-setup gives them, so that both end in the same state.
#
# Environment: CLUSTER, BUCKET, AWS_REGION (or AWS_DEFAULT_REGION), the endpoint and credentials as for any aws
# command. AWS_CLI_CALL_LOG, if set, receives one line per aws call.
set -euo pipefail

cluster=${CLUSTER:?set CLUSTER}
bucket=${BUCKET:?set BUCKET}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:?set AWS_REGION}}
namespace=${NAMESPACE:-flyte}
# The tags flyte-aws-setup gives what it makes: its own, the config's, the setup's name (the cluster's), and on a
# role the record of the managed policies it attached.
tags=(Key=managed-by,Value=flyte-aws-setup Key=team,Value=mlplatform "Key=flyte-aws-setup:setup,Value=$cluster")
attached() { echo "Key=flyte-aws-setup:attached,Value=$1"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

aws() {
  if [[ -n ${AWS_CLI_CALL_LOG:-} ]]; then echo "$1 $2" >>"$AWS_CLI_CALL_LOG"; fi
  command aws "$@"
}

# Seed 000: the EKS cluster role and the EKS node role (made in the console there).
cat >"$work/eks-trust.json" <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}
EOF
aws iam create-role --role-name flyte-eks-cluster-role --assume-role-policy-document "file://$work/eks-trust.json" \
  --description "EKS cluster role for Flyte, managed by flyte-aws-setup" \
  --tags "${tags[@]}" "$(attached aws:AmazonEKSClusterPolicy)" >/dev/null
aws iam attach-role-policy --role-name flyte-eks-cluster-role \
  --policy-arn arn:aws:iam::aws:policy/AmazonEKSClusterPolicy

cat >"$work/ec2-trust.json" <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}
EOF
aws iam create-role --role-name flyte-eks-node-role --assume-role-policy-document "file://$work/ec2-trust.json" \
  --description "EKS node role for Flyte, managed by flyte-aws-setup" --tags "${tags[@]}" \
  "$(attached 'aws:AmazonEC2ContainerRegistryReadOnly aws:AmazonEKSWorkerNodePolicy aws:AmazonEKS_CNI_Policy')" >/dev/null
for policy in AmazonEKSWorkerNodePolicy AmazonEC2ContainerRegistryReadOnly AmazonEKS_CNI_Policy; do
  aws iam attach-role-policy --role-name flyte-eks-node-role --policy-arn "arn:aws:iam::aws:policy/$policy"
done

# Seed 002: the OIDC provider (step 1: the issuer; step 2: eksctl utils associate-iam-oidc-provider; step 3: check
# that it is listed).
issuer=$(aws eks describe-cluster --region "$region" --name "$cluster" --query "cluster.identity.oidc.issuer" --output text)
host=${issuer#https://}

# Seed 004: the cluster VPC's DNS settings, checked (nodes cannot register without them).
vpc=$(aws eks describe-cluster --region "$region" --name "$cluster" --query "cluster.resourcesVpcConfig.vpcId" --output text)
for attribute in enableDnsSupport enableDnsHostnames; do
  [[ $(aws ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute "$attribute" --query "${attribute^}.Value" --output text) == True ]]
done
provider_arn=$(aws iam create-open-id-connect-provider --url "$issuer" --client-id-list sts.amazonaws.com \
  --tags "${tags[@]}" --query OpenIDConnectProviderArn --output text)
aws iam list-open-id-connect-providers --output text | grep -q "$host"

# Seed 002: the customer-managed policy for the bucket.
cat >"$work/flyte-IAM-policy.json" <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:DeleteObject*","s3:GetObject*","s3:ListBucket","s3:PutObject*"],"Resource":["arn:aws:s3:::$bucket","arn:aws:s3:::$bucket/*"]}]}
EOF
policy_arn=$(aws iam create-policy --policy-name flyte-custom-policy --policy-document "file://$work/flyte-IAM-policy.json" \
  --description "Flyte access to s3://$bucket, managed by flyte-aws-setup" \
  --tags "${tags[@]}" --query Policy.Arn --output text)

# An IRSA trust document: $1 the condition operator for sub, $2 the subjects as a JSON value.
irsa_trust() {
  local sub
  if [[ $1 == StringEquals ]]; then
    sub="\"StringEquals\":{\"$host:aud\":\"sts.amazonaws.com\",\"$host:sub\":$2}"
  else
    sub="\"StringEquals\":{\"$host:aud\":\"sts.amazonaws.com\"},\"$1\":{\"$host:sub\":$2}"
  fi
  echo "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"$provider_arn\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{$sub}}]}"
}

# Seed 002: the Flyte backend role (eksctl create iamserviceaccount --role-only), then its trust checked.
irsa_trust StringEquals "\"system:serviceaccount:$namespace:flyte-backend-flyte-binary\"" >"$work/system-trust.json"
aws iam create-role --role-name flyte-system-role --assume-role-policy-document "file://$work/system-trust.json" \
  --description "Flyte backend (IRSA), managed by flyte-aws-setup" \
  --tags "${tags[@]}" "$(attached flyte-custom-policy)" >/dev/null
aws iam attach-role-policy --role-name flyte-system-role --policy-arn "$policy_arn"
aws iam get-role --role-name flyte-system-role --query Role.AssumeRolePolicyDocument >/dev/null

# Seed 002: the workers role for flyte:default, then its trust widened to every namespace (steps 4 to 9).
irsa_trust StringEquals "\"system:serviceaccount:$namespace:default\"" >"$work/workers-trust.json"
aws iam create-role --role-name flyte-workers-role --assume-role-policy-document "file://$work/workers-trust.json" \
  --description "Flyte task pods (IRSA), managed by flyte-aws-setup" \
  --tags "${tags[@]}" "$(attached flyte-custom-policy)" >/dev/null
aws iam attach-role-policy --role-name flyte-workers-role --policy-arn "$policy_arn"
irsa_trust StringLike '"system:serviceaccount:*:default"' >"$work/workers-trust-widened.json"
aws iam update-assume-role-policy --role-name flyte-workers-role --policy-document "file://$work/workers-trust-widened.json"

# Seed 003: the project-domain role for fraud's three domains, with the custom policy and the extra one.
irsa_trust StringEquals '["system:serviceaccount:fraud-development:default","system:serviceaccount:fraud-staging:default","system:serviceaccount:fraud-production:default"]' \
  >"$work/fraud-trust.json"
aws iam create-role --role-name flyte-fraud-role --assume-role-policy-document "file://$work/fraud-trust.json" \
  --description "Flyte project fraud (IRSA), managed by flyte-aws-setup" \
  --tags "${tags[@]}" "$(attached 'aws:AmazonAthenaFullAccess flyte-custom-policy')" >/dev/null
aws iam attach-role-policy --role-name flyte-fraud-role --policy-arn "$policy_arn"
aws iam attach-role-policy --role-name flyte-fraud-role --policy-arn arn:aws:iam::aws:policy/AmazonAthenaFullAccess
