"""What happens for each inbound message, command, rating and due follow-up; free of any platform import."""
