# The comparison for `npm run bench`: the documents' setup (seeds 000 to 003, and the VPC DNS check of seed 004) as
# plain aws_iam_* resources of the Terraform AWS provider, the same work as flyte-aws-setup and
# bench/aws-cli-setup.sh, ending in the same state. The bench points every endpoint at its emulator.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

variable "endpoint" { type = string }
variable "region" { type = string }
variable "cluster" { type = string }
variable "bucket" { type = string }
variable "namespace" {
  type    = string
  default = "flyte"
}
variable "projects" {
  description = "Project name => its domains"
  type        = map(list(string))
  default     = { fraud = ["development", "staging", "production"] }
}
variable "project_extra_policies" {
  type    = list(string)
  default = ["arn:aws:iam::aws:policy/AmazonAthenaFullAccess"]
}

provider "aws" {
  region                      = var.region
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {
    iam = var.endpoint
    sts = var.endpoint
    eks = var.endpoint
    ec2 = var.endpoint
    s3  = var.endpoint
  }
}

locals {
  # The tags flyte-aws-setup gives what it makes (the setup is named after the cluster), and on a role the record
  # of the managed policies it attached.
  tags     = { managed-by = "flyte-aws-setup", team = "mlplatform", "flyte-aws-setup:setup" = var.cluster }
  attached = "flyte-aws-setup:attached"
  host     = trimprefix(data.aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")
  provider = aws_iam_openid_connect_provider.this.arn
  project_domains = {
    for p, domains in var.projects : p => [for d in domains : "system:serviceaccount:${p}-${d}:default"]
  }
  project_attachments = merge([
    for p, _ in var.projects : merge(
      { "${p} custom" = { project = p, policy = aws_iam_policy.custom.arn } },
      { for i, arn in var.project_extra_policies : "${p} extra ${i}" => { project = p, policy = arn } },
    )
  ]...)
}

# The cluster, its issuer, and its VPC's DNS settings (seed 004: checked, not changed).
data "aws_eks_cluster" "this" {
  name = var.cluster
}

data "aws_vpc" "cluster" {
  id = data.aws_eks_cluster.this.vpc_config[0].vpc_id
  lifecycle {
    postcondition {
      condition     = self.enable_dns_support && self.enable_dns_hostnames
      error_message = "the cluster's VPC needs enableDnsSupport and enableDnsHostnames"
    }
  }
}

# Seed 000: the EKS cluster role and the EKS node role.
resource "aws_iam_role" "cluster" {
  name        = "flyte-eks-cluster-role"
  description = "EKS cluster role for Flyte, managed by flyte-aws-setup"
  tags        = merge(local.tags, { (local.attached) = "aws:AmazonEKSClusterPolicy" })
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "eks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_iam_role" "node" {
  name        = "flyte-eks-node-role"
  description = "EKS node role for Flyte, managed by flyte-aws-setup"
  tags = merge(local.tags, {
    (local.attached) = "aws:AmazonEC2ContainerRegistryReadOnly aws:AmazonEKSWorkerNodePolicy aws:AmazonEKS_CNI_Policy"
  })
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each   = toset(["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"])
  role       = aws_iam_role.node.name
  policy_arn = "arn:aws:iam::aws:policy/${each.key}"
}

# Seed 002: the OIDC provider and the customer-managed policy for the bucket.
resource "aws_iam_openid_connect_provider" "this" {
  url            = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
  tags           = local.tags
}

resource "aws_iam_policy" "custom" {
  name        = "flyte-custom-policy"
  description = "Flyte access to s3://${var.bucket}, managed by flyte-aws-setup"
  tags        = local.tags
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:DeleteObject*", "s3:GetObject*", "s3:ListBucket", "s3:PutObject*"]
      Resource = ["arn:aws:s3:::${var.bucket}", "arn:aws:s3:::${var.bucket}/*"]
    }]
  })
}

# Seed 002: the Flyte backend role and the workers role (every namespace's default service account).
resource "aws_iam_role" "system" {
  name        = "flyte-system-role"
  description = "Flyte backend (IRSA), managed by flyte-aws-setup"
  tags        = merge(local.tags, { (local.attached) = "flyte-custom-policy" })
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.provider }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.host}:aud" = "sts.amazonaws.com"
          "${local.host}:sub" = "system:serviceaccount:${var.namespace}:flyte-backend-flyte-binary"
        }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "system" {
  role       = aws_iam_role.system.name
  policy_arn = aws_iam_policy.custom.arn
}

resource "aws_iam_role" "workers" {
  name        = "flyte-workers-role"
  description = "Flyte task pods (IRSA), managed by flyte-aws-setup"
  tags        = merge(local.tags, { (local.attached) = "flyte-custom-policy" })
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.provider }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.host}:aud" = "sts.amazonaws.com" }
        StringLike   = { "${local.host}:sub" = "system:serviceaccount:*:default" }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "workers" {
  role       = aws_iam_role.workers.name
  policy_arn = aws_iam_policy.custom.arn
}

# Seed 003: one project-domain role per project, with the custom policy and the extra ones.
resource "aws_iam_role" "project" {
  for_each    = local.project_domains
  name        = "flyte-${each.key}-role"
  description = "Flyte project ${each.key} (IRSA), managed by flyte-aws-setup"
  tags        = merge(local.tags, { (local.attached) = "aws:AmazonAthenaFullAccess flyte-custom-policy" })
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.provider }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.host}:aud" = "sts.amazonaws.com"
          "${local.host}:sub" = each.value
        }
      }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "project" {
  for_each   = local.project_attachments
  role       = aws_iam_role.project[each.value.project].name
  policy_arn = each.value.policy
}
