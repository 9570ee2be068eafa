/**
 * The part of the EC2 SDK the tool uses (the cluster VPC's DNS check), in a module of its own: it is imported only
 * when the check runs, and its named imports let the bundler leave the rest of EC2's large SDK out.
 */
export {
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
