// Tests for the topic statements' grammar.
#include "sql/parser/topic_parser.h"

#include <gtest/gtest.h>

#include "sql/parser/classifier.h"

namespace kalam::sql::parser {
namespace {

Result<TopicStatement> Parse(std::string_view sql) {
  auto stmts = SplitStatements(sql);
  if (!stmts.ok()) return stmts.status();
  return ParseTopicStatement((*stmts)[0]);
}

std::string Error(std::string_view sql) {
  auto r = Parse(sql);
  return r.ok() ? "OK" : r.status().message();
}

TEST(TopicClassifierTest, RecognisesEveryTopicStatement) {
  auto kind = [](std::string_view sql) {
    auto stmts = SplitStatements(sql);
    return *ClassifyStatement((*stmts)[0].tokens);
  };
  EXPECT_EQ(kind("CREATE TOPIC a.b"), StatementKind::kCreateTopic);
  EXPECT_EQ(kind("drop topic a.b"), StatementKind::kDropTopic);
  EXPECT_EQ(kind("CLEAR TOPIC a.b"), StatementKind::kClearTopic);
  EXPECT_EQ(kind("ALTER TOPIC a.b ADD SOURCE t ON INSERT"), StatementKind::kAlterTopic);
  EXPECT_EQ(kind("CONSUME FROM a.b"), StatementKind::kConsume);
  EXPECT_EQ(kind("ACK a.b GROUP 'g' UPTO OFFSET 1"), StatementKind::kAck);
}

TEST(TopicParserTest, CreateWithPartitions) {
  auto s = Parse("CREATE TOPIC app.Events PARTITIONS 4;");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, TopicStatement::Kind::kCreate);
  EXPECT_EQ(s->topic_ns, "app");
  EXPECT_EQ(s->topic_name, "Events");
  EXPECT_EQ(s->partitions, 4u);
  EXPECT_EQ(Error("CREATE TOPIC a.b PARTITIONS -1"), "Partition count must be a positive integer");
  EXPECT_EQ(Error("CREATE TOPIC a.b PARTITIONS"), "Partition count must be a positive integer");
}

TEST(TopicParserTest, AddSourceWithWhereAndPayload) {
  auto s = Parse("ALTER TOPIC a.t ADD SOURCE ns.orders ON update WHERE (v > 3) AND w = 'x' "
                 "WITH (payload = 'diff')");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, TopicStatement::Kind::kAddSource);
  EXPECT_EQ(s->source.ns, "ns");
  EXPECT_EQ(s->source.name, "orders");
  EXPECT_EQ(s->op, TopicOp::kUpdate);
  ASSERT_TRUE(s->where.has_value());
  EXPECT_EQ(s->where->text, "(v > 3) AND w = 'x'");
  EXPECT_EQ(s->payload, PayloadMode::kDiff);
  EXPECT_EQ(Error("ALTER TOPIC a.t ADD SOURCE t ON MERGE"),
            "Invalid operation 'MERGE'. Expected INSERT, UPDATE, or DELETE");
  EXPECT_EQ(Error("ALTER TOPIC a.t ADD SOURCE t ON INSERT WITH ()"),
            "Expected 'payload' parameter in WITH clause");
  EXPECT_EQ(Error("ALTER TOPIC a.t ADD SOURCE t ON INSERT WITH (payload = rows)"),
            "Invalid payload mode 'rows'. Expected 'key', 'full', or 'diff'");
}

TEST(TopicParserTest, DropSourceIsNotAddSource) {
  auto s = Parse("ALTER TOPIC a.t DROP SOURCE t ON DELETE");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, TopicStatement::Kind::kDropSource);
  EXPECT_EQ(s->op, TopicOp::kDelete);
  EXPECT_NE(Error("ALTER TOPIC a.t DROP SOURCE t ON DELETE WHERE x = 1"), "OK");
}

TEST(TopicParserTest, ConsumeAndAckClauses) {
  auto c = Parse("CONSUME FROM a.t LIMIT 5 GROUP 'g' FROM 7 PARTITION 2");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->group, "g");
  EXPECT_EQ(c->start, TopicStatement::Start::kOffset);
  EXPECT_EQ(c->start_offset, 7u);
  EXPECT_EQ(c->limit, 5u);
  EXPECT_EQ(c->partition, 2u);
  auto d = Parse("CONSUME FROM a.t");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->start, TopicStatement::Start::kDefault);
  EXPECT_EQ(d->limit, 100u);
  auto a = Parse("ACK a.t GROUP 'g' PARTITION 1 UPTO OFFSET 9");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->upto_offset, 9u);
  EXPECT_EQ(a->partition, 1u);
  EXPECT_EQ(Error("ACK a.t UPTO OFFSET 1"), "ACK requires GROUP clause");
  EXPECT_EQ(Error("ACK a.t GROUP 'g'"), "ACK requires UPTO OFFSET clause");
  EXPECT_EQ(Error("ACK a.t GROUP 'g' UPTO OFFSET -1"),
            "Invalid offset '-1'. Must be a non-negative integer");
}

}  // namespace
}  // namespace kalam::sql::parser
