// `strom cluster rebalance`: start, show or cancel a rebalance, and follow it (--wait).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"

namespace strom::cli {
namespace {

using nlohmann::ordered_json;

std::string Ids(const std::vector<ServerId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(ids[i].value());
  }
  return out;
}

std::string Leader(const std::optional<ServerId>& id) {
  return id ? std::to_string(id->value()) : "-";
}

size_t Finished(const RebalanceProgress& p) {
  size_t n = 0;
  for (const auto& b : p.buckets) n += IsFinal(b.status) ? 1 : 0;
  return n;
}

ordered_json ToJson(const std::optional<RebalanceProgress>& progress) {
  if (!progress) return ordered_json{{"rebalance_id", nullptr}, {"status", nullptr}};
  ordered_json buckets = ordered_json::array();
  auto ids = [](const std::vector<ServerId>& v) {
    ordered_json out = ordered_json::array();
    for (ServerId id : v) out.push_back(id.value());
    return out;
  };
  for (const RebalanceBucketProgress& b : progress->buckets) {
    ordered_json entry;
    entry["table_id"] = b.bucket.table_id.value();
    if (b.bucket.partition_id) entry["partition_id"] = b.bucket.partition_id->value();
    entry["bucket"] = b.bucket.bucket.value();
    entry["original_replicas"] = ids(b.original_replicas);
    entry["new_replicas"] = ids(b.new_replicas);
    entry["original_leader"] =
        b.original_leader ? ordered_json(b.original_leader->value()) : nullptr;
    entry["new_leader"] = b.new_leader ? ordered_json(b.new_leader->value()) : nullptr;
    entry["status"] = RebalanceStatusName(b.status);
    buckets.push_back(std::move(entry));
  }
  return ordered_json{{"rebalance_id", progress->rebalance_id},
                      {"status", RebalanceStatusName(progress->status)},
                      {"progress", progress->progress()},
                      {"buckets_done", Finished(*progress)},
                      {"buckets_total", progress->buckets.size()},
                      {"buckets", buckets}};
}

void PrintHuman(std::ostream& out, const std::optional<RebalanceProgress>& progress) {
  if (!progress) {
    out << "No rebalance has run on this cluster.\n";
    return;
  }
  out << fmt::format("Rebalance {}: {}, {} of {} bucket moves done ({:.0f}%)\n",
                     progress->rebalance_id, RebalanceStatusName(progress->status),
                     Finished(*progress), progress->buckets.size(), progress->progress() * 100);
  if (progress->buckets.empty()) {
    out << "Nothing to move: replicas and leaders are already even.\n";
    return;
  }
  TablePrinter printer(
      {"table_id", "bucket", "replicas", "new replicas", "leader", "new leader", "status"});
  for (const RebalanceBucketProgress& b : progress->buckets) {
    printer.AddRow({std::to_string(b.bucket.table_id.value()),
                    std::to_string(b.bucket.bucket.value()), Ids(b.original_replicas),
                    Ids(b.new_replicas), Leader(b.original_leader), Leader(b.new_leader),
                    RebalanceStatusName(b.status)});
  }
  printer.Print(out);
}

std::vector<RebalanceGoal> Goals(const std::vector<std::string>& names) {
  std::vector<RebalanceGoal> out;
  for (const std::string& name : names) {
    if (name == "replica") out.push_back(RebalanceGoal::kReplicaDistribution);
    if (name == "leader") out.push_back(RebalanceGoal::kLeaderDistribution);
    if (name == "rack") out.push_back(RebalanceGoal::kRackAware);
  }
  return out;
}

}  // namespace

Status ClusterRebalance(CommandContext& ctx, const RebalanceOptions& options) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  auto admin = conn->GetAdmin();
  std::optional<std::string> id;
  switch (options.action) {
    case RebalanceOptions::Action::kStart: {
      STROM_ASSIGN_OR_RETURN(std::string started, admin->Rebalance(Goals(options.goals)));
      id = started;
      if (!ctx.json()) ctx.err() << "Started rebalance " << started << "\n";
      break;
    }
    case RebalanceOptions::Action::kCancel: {
      STROM_RETURN_IF_ERROR(admin->CancelRebalance());
      if (!ctx.json()) ctx.err() << "Canceled the rebalance\n";
      break;
    }
    case RebalanceOptions::Action::kStatus:
      break;
  }
  STROM_ASSIGN_OR_RETURN(std::optional<RebalanceProgress> progress,
                         admin->ListRebalanceProgress(id));
  if (options.wait && progress) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    size_t reported = Finished(*progress);
    while (!progress->done()) {
      if (ctx.interrupted()) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        if (ctx.json()) {
          ctx.out() << ToJson(progress).dump() << '\n';
        } else {
          PrintHuman(ctx.out(), progress);
        }
        return MakeError(ErrorCode::kRequestTimeOut, "rebalance {} is still {} after {} s",
                         progress->rebalance_id, RebalanceStatusName(progress->status),
                         options.timeout.count());
      }
      std::this_thread::sleep_for(options.poll_interval);
      STROM_ASSIGN_OR_RETURN(progress, admin->ListRebalanceProgress(progress->rebalance_id));
      if (!progress) return MakeError(ErrorCode::kNoRebalanceInProgress, "the rebalance vanished");
      if (!ctx.json() && Finished(*progress) != reported) {
        reported = Finished(*progress);
        ctx.err() << fmt::format("  {} of {} bucket moves done\n", reported,
                                 progress->buckets.size());
      }
    }
  }
  if (ctx.json()) {
    ctx.out() << ToJson(progress).dump() << '\n';
  } else {
    PrintHuman(ctx.out(), progress);
  }
  // A rebalance that FAILED is an error; so is one followed with --wait that someone else
  // CANCELED.
  if (progress && (progress->status == RebalanceStatus::kFailed ||
                   (progress->status == RebalanceStatus::kCanceled && options.wait &&
                    options.action != RebalanceOptions::Action::kCancel))) {
    size_t failed = 0;
    for (const auto& b : progress->buckets) failed += b.status == RebalanceStatus::kFailed;
    return MakeError(ErrorCode::kRebalanceFailure, "rebalance {} ended {} ({} bucket moves failed)",
                     progress->rebalance_id, RebalanceStatusName(progress->status), failed);
  }
  return Status::OK();
}

Status ClusterTag(CommandContext& ctx, bool add, const std::vector<int32_t>& servers,
                  const std::string& tag) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  ServerTag value =
      tag == "temporary-offline" ? ServerTag::kTemporaryOffline : ServerTag::kPermanentOffline;
  std::vector<ServerId> ids(servers.begin(), servers.end());
  auto admin = conn->GetAdmin();
  STROM_RETURN_IF_ERROR(add ? admin->AddServerTag(ids, value) : admin->RemoveServerTag(ids, value));
  if (ctx.json()) {
    ctx.out() << ordered_json{{"action", add ? "add" : "remove"},
                              {"tag", tag},
                              {"servers", servers}}
                     .dump()
              << '\n';
  } else {
    ctx.out() << fmt::format("{} {} {} tablet server{} {}\n", add ? "Tagged" : "Untagged", tag,
                             add ? "on" : "from", servers.size() == 1 ? "" : "s",
                             fmt::join(servers, ", "));
    if (add) ctx.out() << "Run `strom cluster rebalance` to move their replicas away.\n";
  }
  return Status::OK();
}

}  // namespace strom::cli
