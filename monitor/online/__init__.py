"""Online training: learning-event streams of e-learning platforms judged against POLICY B1-B8."""
