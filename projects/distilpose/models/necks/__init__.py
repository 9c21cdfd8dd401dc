from .token_encoder import TokenDistillingEncoder, sine_position_embedding

__all__ = ['TokenDistillingEncoder', 'sine_position_embedding']
