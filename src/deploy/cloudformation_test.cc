#include "deploy/cloudformation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/error_is.h"

namespace vendo::deploy {
namespace {

using vendo::testing::ErrorIs;

TEST(ParseDescribeStacks, ReadsStatusAndOutputs) {
  auto stacks = ParseDescribeStacks(
      R"(<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
<DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:us-east-1:1:stack/v/1</StackId>
<StackName>vendo</StackName><StackStatus>CREATE_COMPLETE</StackStatus>
<Parameters><member><ParameterKey>Mode</ParameterKey><ParameterValue>identity</ParameterValue>
</member></Parameters>
<Outputs><member><OutputKey>Url</OutputKey><OutputValue>https://tvm.example.com</OutputValue>
<Description>The TVM URL</Description></member></Outputs></member></Stacks>
</DescribeStacksResult></DescribeStacksResponse>)");
  ASSERT_TRUE(stacks);
  ASSERT_EQ(stacks->size(), 1u);
  const StackInfo& s = stacks->front();
  EXPECT_EQ(s.name, "vendo");
  EXPECT_FALSE(s.InProgress());
  EXPECT_FALSE(s.Failed());
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].key, "Url");
  EXPECT_EQ(s.outputs[0].value, "https://tvm.example.com");
  EXPECT_EQ(s.parameter_keys, std::vector<std::string>{"Mode"});
}

StackInfo WithStatus(std::string status) {
  StackInfo s;
  s.status = std::move(status);
  return s;
}

TEST(StackInfo, ClassifiesStatuses) {
  EXPECT_TRUE(WithStatus("UPDATE_ROLLBACK_IN_PROGRESS").InProgress());
  EXPECT_TRUE(WithStatus("ROLLBACK_COMPLETE").Failed());
  EXPECT_TRUE(WithStatus("DELETE_FAILED").Failed());
  EXPECT_FALSE(WithStatus("UPDATE_COMPLETE").Failed());
}

TEST(ParseStackEvents, ReadsEventsNewestFirst) {
  auto events = ParseStackEvents(R"(<DescribeStackEventsResponse><DescribeStackEventsResult>
<StackEvents><member><EventId>e2</EventId><Timestamp>2026-11-24T10:00:02Z</Timestamp>
<LogicalResourceId>Database</LogicalResourceId><ResourceType>AWS::RDS::DBInstance</ResourceType>
<ResourceStatus>CREATE_FAILED</ResourceStatus><ResourceStatusReason>quota</ResourceStatusReason>
</member><member><EventId>e1</EventId><LogicalResourceId>vendo</LogicalResourceId>
<ResourceStatus>CREATE_IN_PROGRESS</ResourceStatus></member></StackEvents>
</DescribeStackEventsResult></DescribeStackEventsResponse>)");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].reason, "quota");
  EXPECT_EQ((*events)[0].resource_type, "AWS::RDS::DBInstance");
  EXPECT_EQ((*events)[1].id, "e1");
}

TEST(DefaultNetwork, ParsesTheDefaultVpcAndItsSubnets) {
  auto vpc =
      ParseDefaultVpc(R"(<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<vpcSet><item><vpcId>vpc-other</vpcId><isDefault>false</isDefault></item>
<item><vpcId>vpc-default</vpcId><isDefault>true</isDefault></item></vpcSet></DescribeVpcsResponse>)");
  ASSERT_TRUE(vpc);
  EXPECT_EQ(*vpc, "vpc-default");
  EXPECT_THAT(ParseDefaultVpc("<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>"),
              ErrorIs(ErrorCode::kNotFound));
  auto subnets = ParseSubnetIds(R"(<DescribeSubnetsResponse><subnetSet>
<item><subnetId>subnet-a</subnetId></item><item><subnetId>subnet-b</subnetId></item>
</subnetSet></DescribeSubnetsResponse>)");
  ASSERT_TRUE(subnets);
  EXPECT_EQ(*subnets, (std::vector<std::string>{"subnet-a", "subnet-b"}));
}

TEST(ParseDescribeStacks, RejectsGarbage) { EXPECT_FALSE(ParseDescribeStacks("<<<")); }

}  // namespace
}  // namespace vendo::deploy
