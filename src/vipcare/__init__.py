"""vipcare: VIP member management and care for malls, department stores and retail chains."""

__version__ = "0.1.0"
