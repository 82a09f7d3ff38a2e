#include "registry/registration_batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace castellan::registry {

registration_batcher::outcome registration_batcher::register_device(request r) {
  slot mine{std::move(r), {}, false, {}};
  std::unique_lock lock(mutex_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (committing_) {
      mine.wake.wait(lock);  // woken when done, or when the commit ended and this slot leads the queue
      continue;
    }
    // Leader: take what is queued (oldest first) and commit it for everyone.
    committing_ = true;
    const std::size_t take = std::min(queue_.size(), max_batch_);
    std::vector<slot*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    lock.unlock();
    try {
      commit(batch);
    } catch (const std::exception& e) {
      // Nothing may leave committing_ set (every later registration would wait forever): the
      // batch is refused, and what the store holds is what it committed.
      for (slot* s : batch) s->out = {outcome_kind::refused, make_error(status_code::BadInternalError, e.what())};
    }
    lock.lock();
    committing_ = false;
    for (slot* s : batch) {
      s->done = true;
      if (s != &mine) s->wake.notify_one();
    }
    // Whoever queued meanwhile: the oldest leads the next commit.
    if (!queue_.empty()) queue_.front()->wake.notify_one();
  }
  return std::move(mine.out);
}

std::size_t registration_batcher::commits() const {
  std::lock_guard lock(mutex_);
  return commits_;
}

std::size_t registration_batcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t registration_batcher::rows() const {
  std::lock_guard lock(mutex_);
  return rows_;
}

void registration_batcher::commit(std::vector<slot*> batch) {
  while (!batch.empty()) {
    std::vector<outcome> outcomes(batch.size());
    // The row being written when the transaction failed; batch.size() while no row is at
    // fault (BEGIN, COMMIT, or after the last row).
    std::size_t failed_at = batch.size();
    auto written = store_.transact([&](store::transaction& tx) -> result<void> {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        failed_at = i;
        const store::device_record& row = batch[i]->req.row;
        // Inside the transaction, so rows earlier in this batch count: the same answer the
        // unique index on effective_client_id would give, as a clear error instead.
        auto clash = tx.registry().find_live_device_by_client_id(row.effective_client_id);
        if (!clash) return std::move(clash).err();
        if (*clash && (*clash)->id != row.id) {
          outcomes[i] = {outcome_kind::refused,
                         make_error(status_code::BadEntryExists, "client ID '" + row.effective_client_id +
                                                                     "' already belongs to device " + (*clash)->id + " ('" +
                                                                     (*clash)->common_name + "')")};
          continue;
        }
        auto inserted = tx.registry().insert_device(row);
        if (!inserted) return std::move(inserted).err();
        if (!*inserted) {
          outcomes[i].kind = outcome_kind::already_registered;  // never twice: the primary key decided
          continue;
        }
        if (auto a = tx.append_audit(batch[i]->req.audit); !a) return a;
        outcomes[i].kind = outcome_kind::registered;
      }
      failed_at = batch.size();
      return {};
    });
    if (written) {
      std::size_t registered = 0;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (outcomes[i].kind == outcome_kind::registered) ++registered;
        batch[i]->out = std::move(outcomes[i]);
      }
      std::lock_guard lock(mutex_);
      ++commits_;
      rows_ += registered;
      return;
    }
    // Rolled back: nothing of this attempt is in the store.
    const bool row_at_fault = failed_at < batch.size() && written.err().code == status_code::BadInvalidState;
    if (!row_at_fault) {
      // The store itself failed (disk full, I/O, busy, connection lost): no row is to blame and
      // retrying row by row would only fail again. Every connection is refused (fail closed).
      for (slot* s : batch) s->out = {outcome_kind::refused, written.err()};
      return;
    }
    // A constraint refused this one row (a trigger, a unique index another node filled
    // meanwhile): it gets its own error, the others go again without it.
    batch[failed_at]->out = {outcome_kind::refused, written.err()};
    batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(failed_at));
  }
}

}  // namespace castellan::registry
