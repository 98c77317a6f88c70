// gorun/io_result.hpp — the result of an I/O call: a value, or a std::error_code.
//
//     gorun::io_result<std::size_t> n = co_await f.read_at(buf, 0);
//     if (!n) { fmt::print("read: {}\n", n.error().message()); co_return; }
//     use(*n);
//     std::string s = (co_await gorun::read_file("/etc/hostname")).value();   // throws instead
//
// gorun's I/O path does not throw: failures are values, as in Go's `(n, err)`. `.value()` is for
// code that prefers exceptions: it throws std::system_error. Errors are errno values in
// std::generic_category(), so they compare equal to std::errc constants:
// `n.error() == std::errc::timed_out`. Inside, results travel as liburing's `>= 0 or -errno`
// ints; from_res() turns one into an io_result. EINTR and EAGAIN never reach the user (IO-6):
// gorun's calls retry them.
#pragma once

#include <gorun/config.hpp>

#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace gorun {

/// A value of type T, or the error that prevented it.
///
/// Thread-safety: a plain value type.
template <class T>
class [[nodiscard("an I/O result may hold an error: check it or call .value()")]] io_result {
public:
    using value_type = T;

    /// A success holding `v`.
    io_result(T v) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit
        : value_(std::move(v)) {
    }
    /// A failure. `ec` must be an error (non-zero).
    io_result(std::error_code ec) noexcept  // NOLINT: implicit
        : ec_(ec) {
    }

    /// From a liburing-style result: `res >= 0` is a success holding T(res), else -errno.
    static io_result from_res(long long res) noexcept requires std::is_arithmetic_v<T> {
        if (res < 0)
            return io_result(std::error_code(static_cast<int>(-res), std::generic_category()));
        return io_result(static_cast<T>(res));
    }

    bool has_value() const noexcept {
        return value_.has_value();
    }
    explicit operator bool() const noexcept {
        return has_value();
    }

    /// The error; a default (zero) error_code on success.
    std::error_code error() const noexcept {
        return ec_;
    }

    /// The value. Errors: throws std::system_error holding error() on failure.
    T& value()& {
        check();
        return *value_;
    }
    const T& value() const& {
        check();
        return *value_;
    }
    T&& value()&& {
        check();
        return std::move(*value_);
    }

    /// The value, or `other` on failure.
    template <class U>
    T value_or(U && other) const& {
        return value_ ? *value_ : static_cast<T>(std::forward<U>(other));
    }

    /// The value; undefined on failure (check first).
    T& operator*()& noexcept {
        return *value_;
    }
    const T& operator*() const& noexcept {
        return *value_;
    }
    T&& operator*()&& noexcept {
        return std::move(*value_);
    }
    T* operator->() noexcept {
        return &*value_;
    }
    const T* operator->() const noexcept {
        return &*value_;
    }

private:
    void check() const {
        if (!value_)
            throw std::system_error(ec_);
    }
    std::optional<T> value_;
    std::error_code ec_;
};

/// Success or an error, with nothing to carry.
template <>
class [[nodiscard("an I/O result may hold an error: check it or call .value()")]] io_result<void> {
public:
    using value_type = void;

    /// A success.
    io_result() noexcept = default;
    /// A failure (or success, for a zero `ec`).
    io_result(std::error_code ec) noexcept  // NOLINT: implicit
        : ec_(ec) {
    }

    /// From a liburing-style result: `res >= 0` is a success, else -errno.
    static io_result from_res(long long res) noexcept {
        if (res < 0)
            return io_result(std::error_code(static_cast<int>(-res), std::generic_category()));
        return {};
    }

    bool has_value() const noexcept {
        return !ec_;
    }
    explicit operator bool() const noexcept {
        return has_value();
    }
    std::error_code error() const noexcept {
        return ec_;
    }
    /// Errors: throws std::system_error holding error() on failure.
    void value() const {
        if (ec_)
            throw std::system_error(ec_);
    }

private:
    std::error_code ec_;
};

}  // namespace gorun
